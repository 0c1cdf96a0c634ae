//! Contacts (SPEC P1, I3): validation and normalisation, writes with their audit
//! events in the region database, one transaction each.

use std::collections::BTreeMap;

use callplane_domain::contact::{self, FieldError};
use callplane_domain::id::new_id;
use callplane_store::access::Scope;
use callplane_store::product::contacts::{self, Contact, Fields, Filter};
use callplane_store::product::InWorkspace;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult, Code};
use crate::services::agents::default_country;
use crate::services::audit::Auditor;
use crate::state::AppState;

/// What a request gives for a contact; on update, absent fields keep their value and an
/// empty `email` or `timezone` clears it.
#[derive(Debug, Default, Clone)]
pub struct Input {
    pub phone: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub timezone: Option<String>,
    pub tags: Option<Vec<String>>,
    pub custom_fields: Option<BTreeMap<String, String>>,
    pub do_not_call: Option<bool>,
    pub opted_out: Option<bool>,
}

/// A contact's fields, validated and normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct Valid {
    pub phone: String,
    pub name: String,
    pub email: Option<String>,
    pub timezone: Option<String>,
    pub tags: Vec<String>,
    pub custom_fields: BTreeMap<String, String>,
    pub do_not_call: bool,
    pub opted_out: bool,
}

impl Valid {
    pub fn from_contact(c: &Contact) -> Self {
        Self {
            phone: c.phone.clone(),
            name: c.name.clone(),
            email: c.email.clone(),
            timezone: c.timezone.clone(),
            tags: serde_json::from_str(&c.tags).unwrap_or_default(),
            custom_fields: serde_json::from_str(&c.custom_fields).unwrap_or_default(),
            do_not_call: c.do_not_call,
            opted_out: c.opted_out,
        }
    }

    /// Applies `input` over `self` (or over an empty contact), validating each field given.
    pub fn apply(base: Option<&Valid>, input: &Input, default_country: &str) -> Result<Valid, FieldError> {
        let phone = match (&input.phone, base) {
            (Some(raw), _) => Some(contact::parse_phone(raw, default_country)?),
            (None, Some(_)) => None,
            (None, None) => return Err(FieldError { field: "phone", message: "is required".into() }),
        };
        let name = match &input.name {
            Some(raw) => contact::parse_name(raw)?,
            None => base.map(|b| b.name.clone()).unwrap_or_default(),
        };
        let email = match input.email.as_deref().map(str::trim) {
            Some("") => None,
            Some(raw) => Some(
                callplane_domain::email::parse_email(raw)
                    .map_err(|_| FieldError { field: "email", message: "must be a valid email address".into() })?,
            ),
            None => base.and_then(|b| b.email.clone()),
        };
        let timezone = match input.timezone.as_deref().map(str::trim) {
            Some("") => None,
            Some(raw) => Some(contact::parse_timezone(raw)?),
            None => base.and_then(|b| b.timezone.clone()),
        };
        // When no zone is known, the number may determine one.
        let timezone = timezone.or_else(|| phone.as_ref().and_then(contact::timezone_of).map(str::to_owned));
        let tags = match &input.tags {
            Some(t) => contact::parse_tags(t.iter().map(String::as_str))?,
            None => base.map(|b| b.tags.clone()).unwrap_or_default(),
        };
        let custom_fields = match &input.custom_fields {
            Some(f) => {
                contact::check_custom_fields(f)?;
                f.clone()
            }
            None => base.map(|b| b.custom_fields.clone()).unwrap_or_default(),
        };
        Ok(Valid {
            phone: phone.map(|p| p.e164).or_else(|| base.map(|b| b.phone.clone())).unwrap_or_default(),
            name,
            email,
            timezone,
            tags,
            custom_fields,
            do_not_call: input.do_not_call.or(base.map(|b| b.do_not_call)).unwrap_or(false),
            opted_out: input.opted_out.or(base.map(|b| b.opted_out)).unwrap_or(false),
        })
    }

    /// The JSON an audit event records (no secrets in contacts).
    pub fn snapshot(&self) -> Value {
        json!({ "phone": self.phone, "name": self.name, "email": self.email, "timezone": self.timezone,
                "tags": self.tags, "custom_fields": self.custom_fields })
    }

    pub(crate) fn flags(&self) -> Value {
        json!({ "do_not_call": self.do_not_call, "opted_out": self.opted_out })
    }
}

/// The encoded forms the store keeps for a contact's fields.
pub(crate) struct Encoded {
    tags_json: String,
    custom_fields: String,
    search: String,
}

impl Encoded {
    pub(crate) fn of(v: &Valid) -> Self {
        Self {
            tags_json: serde_json::to_string(&v.tags).expect("strings serialise"),
            custom_fields: serde_json::to_string(&v.custom_fields).expect("strings serialise"),
            search: contact::search_text(&v.name, &v.phone, v.email.as_deref()),
        }
    }

    pub(crate) fn fields<'a>(&'a self, v: &'a Valid) -> Fields<'a> {
        Fields {
            phone: &v.phone,
            name: &v.name,
            email: v.email.as_deref(),
            timezone: v.timezone.as_deref(),
            tags: &v.tags,
            tags_json: &self.tags_json,
            custom_fields: &self.custom_fields,
            do_not_call: v.do_not_call,
            opted_out: v.opted_out,
            search: &self.search,
        }
    }
}

fn invalid(e: FieldError) -> ApiError {
    ApiError::invalid(e.field, e.message)
}

fn phone_taken(e: callplane_store::Error) -> ApiError {
    if e.is_unique_on("phone") {
        ApiError::new(Code::ContactExists, "A contact with this phone number already exists in this workspace.")
            .with("errors", json!([{ "field": "phone", "message": "is already a contact" }]))
    } else {
        e.into()
    }
}

/// Inserts a validated contact (no audit: callers record their own events).
pub async fn insert(tx: &mut impl InWorkspace, id: &str, v: &Valid, now: i64) -> ApiResult<Contact> {
    let enc = Encoded::of(v);
    contacts::create(tx, id, &enc.fields(v), now).await.map_err(phone_taken)
}

/// Replaces a contact's fields with validated ones.
pub async fn replace(tx: &mut impl InWorkspace, id: &str, v: &Valid, now: i64) -> ApiResult<Contact> {
    let enc = Encoded::of(v);
    contacts::update(tx, id, &enc.fields(v), now).await.map_err(phone_taken)?.ok_or_else(ApiError::not_found)
}

pub async fn create(state: &AppState, scope: &Scope, input: &Input) -> ApiResult<Contact> {
    let v = Valid::apply(None, input, &default_country(state, scope).await?).map_err(invalid)?;
    let now = state.now();
    let id = new_id("ct");
    let mut tx = scope.begin().await?;
    let created = insert(&mut tx, &id, &v, now).await?;
    let audit = Auditor::for_scope(scope, now);
    let mut after = v.snapshot();
    after["do_not_call"] = json!(v.do_not_call);
    after["opted_out"] = json!(v.opted_out);
    audit.record_product(&mut tx, "contact.created", ("contact", &id), None, Some(after)).await?;
    tx.commit().await?;
    Ok(created)
}

pub async fn get(scope: &Scope, id: &str) -> ApiResult<Contact> {
    contacts::get(&mut scope.read().await?, id).await?.ok_or_else(ApiError::not_found)
}

/// Updates the given fields. A change of the do-not-call or opted-out flag is audited as
/// an event of its own (who changed it and when: P1).
pub async fn update(state: &AppState, scope: &Scope, id: &str, input: &Input) -> ApiResult<Contact> {
    let country = default_country(state, scope).await?;
    let now = state.now();
    let mut tx = scope.begin().await?;
    let current = contacts::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let before = Valid::from_contact(&current);
    let after = Valid::apply(Some(&before), input, &country).map_err(invalid)?;
    if after == before {
        return Ok(current);
    }
    let enc = Encoded::of(&after);
    let updated = contacts::update(&mut tx, id, &enc.fields(&after), now)
        .await
        .map_err(phone_taken)?
        .ok_or_else(ApiError::not_found)?;
    let audit = Auditor::for_scope(scope, now);
    if after.snapshot() != before.snapshot() {
        let target = ("contact", id);
        audit
            .record_product(&mut tx, "contact.updated", target, Some(before.snapshot()), Some(after.snapshot()))
            .await?;
    }
    if after.flags() != before.flags() {
        let target = ("contact", id);
        audit
            .record_product(&mut tx, "contact.flags_changed", target, Some(before.flags()), Some(after.flags()))
            .await?;
    }
    tx.commit().await?;
    Ok(updated)
}

pub async fn delete(state: &AppState, scope: &Scope, id: &str) -> ApiResult<()> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    let current = contacts::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    contacts::delete(&mut tx, id).await?;
    let before = Valid::from_contact(&current).snapshot();
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "contact.deleted", ("contact", id), Some(before), None)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes every contact matching the filter, in one transaction with one audit event.
pub async fn delete_matching(state: &AppState, scope: &Scope, filter: &Filter<'_>) -> ApiResult<u64> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    let n = contacts::delete_matching(&mut tx, filter).await?;
    let criteria = json!({ "tag": filter.tag, "do_not_call": filter.do_not_call, "opted_out": filter.opted_out,
                           "q": filter.q, "deleted": n });
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "contacts.bulk_deleted", ("contacts", "filter"), None, Some(criteria))
        .await?;
    tx.commit().await?;
    Ok(n)
}
