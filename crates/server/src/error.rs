//! The one error type at the HTTP boundary, rendered as RFC 9457 problem details.
//!
//! Each [`Code`] has a fixed HTTP status and title; handlers add a `detail` and, where
//! useful, extra members (`errors` per field, the missing `permission`). Internal errors
//! are logged with their cause chain and answered with a generic 500 carrying only an
//! error id.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use callplane_domain::Permission;
use serde_json::{json, Map, Value};

macro_rules! codes {
    ($($variant:ident => ($status:ident, $code:literal, $title:literal)),+ $(,)?) => {
        /// Stable machine-readable error codes (the `code` member of a problem).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code { $($variant),+ }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),+];
            pub fn status(self) -> StatusCode { match self { $(Code::$variant => StatusCode::$status),+ } }
            pub fn as_str(self) -> &'static str { match self { $(Code::$variant => $code),+ } }
            pub fn title(self) -> &'static str { match self { $(Code::$variant => $title),+ } }
        }
    };
}

codes! {
    MalformedJson => (BAD_REQUEST, "malformed_json", "The request body is not valid JSON"),
    BadRequest => (BAD_REQUEST, "bad_request", "The request is not valid"),
    Unauthenticated => (UNAUTHORIZED, "unauthenticated", "Authentication required"),
    InvalidCredentials => (UNAUTHORIZED, "invalid_credentials", "Email or password is incorrect"),
    PermissionDenied => (FORBIDDEN, "permission_denied", "You do not have permission to do this"),
    WorkspaceInactive => (FORBIDDEN, "workspace_inactive", "The workspace is inactive"),
    PlanLimitReached => (FORBIDDEN, "plan_limit_reached", "The plan's workspace limit is reached"),
    CsrfFailed => (FORBIDDEN, "csrf_failed", "The form has expired; reload the page and try again"),
    SessionRequired => (FORBIDDEN, "session_required", "This needs a signed-in user"),
    RoleAboveOwn => (FORBIDDEN, "role_above_own", "You cannot grant or manage a role above your own"),
    PlanRequired => (FORBIDDEN, "plan_required", "The account's plan does not include this"),
    InsufficientFunds => (PAYMENT_REQUIRED, "insufficient_funds", "The wallet cannot cover this"),
    InvitationEmailMismatch => (FORBIDDEN, "invitation_email_mismatch", "The invitation is for another email address"),
    SignupDisabled => (FORBIDDEN, "signup_disabled", "Sign-up is disabled on this installation"),
    NoWorkspace => (FORBIDDEN, "no_workspace", "You do not have access to any workspace yet"),
    NotFound => (NOT_FOUND, "not_found", "Not found"),
    MethodNotAllowed => (METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed"),
    AlreadyMember => (CONFLICT, "already_member", "Already a member of this workspace"),
    OwnerRequired => (CONFLICT, "owner_required", "A workspace keeps exactly one Owner; transfer ownership first"),
    RoleNameTaken => (CONFLICT, "role_name_taken", "A role with this name already exists"),
    RoleInUse => (CONFLICT, "role_in_use", "The role is still assigned"),
    InvitationExpired => (GONE, "invitation_expired", "The invitation has expired"),
    InvitationRevoked => (GONE, "invitation_revoked", "The invitation was revoked"),
    InvitationUsed => (GONE, "invitation_used", "The invitation has already been used"),
    WorkspaceNameTaken => (CONFLICT, "workspace_name_taken", "A workspace with this name already exists"),
    EmailTaken => (CONFLICT, "email_taken", "An account with this email already exists"),
    ContactExists => (CONFLICT, "contact_exists", "A contact with this phone number already exists"),
    AppointmentConflict => (CONFLICT, "appointment_conflict", "The slot overlaps another booked appointment"),
    ContactNotCallable => (CONFLICT, "contact_not_callable", "The contact is marked do not call or opted out"),
    CallEnded => (CONFLICT, "call_ended", "The call has already ended"),
    CampaignState => (CONFLICT, "campaign_state", "The campaign's status does not allow this"),
    CallsInFlight => (CONFLICT, "calls_in_flight", "Calls of the workspace are still in flight"),
    WebhookDisabled => (CONFLICT, "webhook_disabled", "The webhook endpoint is disabled"),
    AgentInUse => (CONFLICT, "agent_in_use", "The agent still has appointments, numbers or calls"),
    TemplateInUse => (CONFLICT, "template_in_use", "Agents still use this template"),
    NumberUnavailable => (CONFLICT, "number_unavailable", "The number is no longer available"),
    RegionMismatch => (CONFLICT, "region_mismatch", "The workspaces are in different data regions"),
    OnlyWorkspace => (CONFLICT, "only_workspace", "The account's only workspace cannot be deleted"),
    ActiveWorkspace => (CONFLICT, "active_workspace", "Your active workspace cannot be deleted"),
    WorkspaceNotEmpty => (CONFLICT, "workspace_not_empty", "The workspace still has active agents or phone numbers"),
    PayloadTooLarge => (PAYLOAD_TOO_LARGE, "payload_too_large", "The request body is too large"),
    UnsupportedMediaType => (UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Expected a JSON body (Content-Type: application/json)"),
    ValidationFailed => (UNPROCESSABLE_ENTITY, "validation_failed", "The request has invalid fields"),
    WebhookTargetRefused => (UNPROCESSABLE_ENTITY, "webhook_target_refused", "The webhook URL points at a private, loopback or metadata address"),
    DestinationNotEnabled => (UNPROCESSABLE_ENTITY, "destination_not_enabled", "The destination's network group is not enabled"),
    NoSipTrunk => (UNPROCESSABLE_ENTITY, "no_sip_trunk", "The workspace has no SIP trunk with an outbound gateway"),
    TrunkInUse => (CONFLICT, "trunk_in_use", "Campaigns still dial through the SIP trunk"),
    AudienceEmpty => (UNPROCESSABLE_ENTITY, "audience_empty", "The campaign's audience has no contacts"),
    RegionImmutable => (UNPROCESSABLE_ENTITY, "region_immutable", "A workspace's region cannot change"),
    ConfirmationMismatch => (UNPROCESSABLE_ENTITY, "confirmation_mismatch", "The confirmation does not match the workspace name"),
    RateLimited => (TOO_MANY_REQUESTS, "rate_limited", "Too many attempts"),
    Internal => (INTERNAL_SERVER_ERROR, "internal_error", "Internal server error"),
    SipUnavailable => (SERVICE_UNAVAILABLE, "sip_unavailable", "This server does not serve SIP"),
    RegionUnavailable => (SERVICE_UNAVAILABLE, "region_unavailable", "The workspace's data region is not available"),
}

/// An error answered to a client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: Code,
    pub detail: String,
    extra: Map<String, Value>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        Self { code, detail: detail.into(), extra: Map::new() }
    }

    /// Adds a member to the problem document.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    pub fn not_found() -> Self {
        Self::new(Code::NotFound, "The requested resource does not exist.")
    }

    pub fn unauthenticated() -> Self {
        Self::new(Code::Unauthenticated, "Sign in or send a valid bearer token.")
    }

    /// A refusal naming the missing permission (A5).
    pub fn permission_denied(p: Permission) -> Self {
        Self::new(Code::PermissionDenied, format!("This needs the `{p}` permission.")).with("permission", p.as_str())
    }

    /// One invalid field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(Code::ValidationFailed, format!("{field}: {message}"))
            .with("errors", json!([{ "field": field, "message": message }]))
    }

    /// Logs the cause and hides it from the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let id = callplane_domain::id::new_id("err");
        tracing::error!(error_id = %id, cause = %cause, "internal error");
        Self::new(Code::Internal, "Something went wrong on our side.").with("error_id", id)
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// The problem document.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "type": format!("https://callplane.dev/problems/{}", self.code.as_str().replace('_', "-")),
            "title": self.code.title(),
            "status": self.code.status().as_u16(),
            "detail": self.detail,
            "code": self.code.as_str(),
        });
        if let Value::Object(map) = &mut body {
            map.extend(self.extra.clone());
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status(), axum::Json(self.body())).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/problem+json"));
        // Lets the dashboard layer show the problem as a page instead of JSON.
        res.extensions_mut().insert(ProblemMarker { code: self.code, detail: self.detail });
        res
    }
}

/// Attached to problem responses so other layers can read the code without parsing JSON.
#[derive(Debug, Clone)]
pub struct ProblemMarker {
    pub code: Code,
    pub detail: String,
}

impl From<callplane_store::Error> for ApiError {
    fn from(e: callplane_store::Error) -> Self {
        match e {
            callplane_store::Error::InvalidText => {
                ApiError::new(Code::ValidationFailed, "Text must not contain NUL characters.")
            }
            callplane_store::Error::RegionUnavailable(region) => {
                tracing::error!(%region, "a workspace's region is not configured");
                ApiError::new(
                    Code::RegionUnavailable,
                    format!("The workspace's data region `{region}` is not configured on this server."),
                )
            }
            other => ApiError::internal(other),
        }
    }
}

/// The one place an invalid email address becomes a field error.
impl From<callplane_domain::email::InvalidEmail> for ApiError {
    fn from(e: callplane_domain::email::InvalidEmail) -> Self {
        ApiError::invalid("email", e.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => {
                // serde's message names the field ("unknown field `x`", "missing field `y`").
                let message = e.body_text();
                let message = message.rsplit(": ").next().unwrap_or(&message).to_owned();
                ApiError::new(Code::ValidationFailed, message.clone())
                    .with("errors", json!([{ "field": field_of(&message), "message": message }]))
            }
            JsonRejection::JsonSyntaxError(e) => ApiError::new(Code::MalformedJson, e.body_text()),
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::new(Code::UnsupportedMediaType, "Send Content-Type: application/json.")
            }
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(Code::PayloadTooLarge, "The request body exceeds the size limit.")
            }
            other => ApiError::new(Code::BadRequest, other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::new(Code::ValidationFailed, r.body_text())
    }
}

/// The field a serde message is about: the first `backticked` word, if any.
fn field_of(message: &str) -> String {
    message.split('`').nth(1).unwrap_or("body").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "duplicate {}", c.as_str());
            assert!(c.as_str().chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'));
        }
    }

    #[test]
    fn a5_permission_denied_names_the_permission() {
        let body = ApiError::permission_denied(Permission::WorkspacesDelete).body();
        assert_eq!(body["status"], 403);
        assert_eq!(body["code"], "permission_denied");
        assert_eq!(body["permission"], "workspaces_delete");
    }
}
