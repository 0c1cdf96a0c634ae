//! Server-rendered pages: minijinja templates compiled into the binary, auto-escaped.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;

pub struct Templates(Environment<'static>);

macro_rules! embed {
    ($env:ident, $($name:literal),+) => {
        $($env.add_template($name, include_str!(concat!("../../templates/", $name))).expect($name);)+
    };
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        // Optional context (a form to refill, a notice) may be absent; render it as empty.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        // An absent optional value (`null` in the context) renders as nothing, never as
        // the word `none` in a form field.
        env.set_formatter(|out, state, value| {
            if value.is_none() {
                return Ok(());
            }
            minijinja::escape_formatter(out, state, value)
        });
        embed!(
            env,
            "base.html",
            "webhooks.html",
            "webhook.html",
            "webhook_docs.html",
            "campaigns.html",
            "campaign.html",
            "login.html",
            "signup.html",
            "dashboard.html",
            "workspaces.html",
            "error.html",
            "no_workspace.html",
            "invite.html",
            "set_password.html",
            "team.html",
            "keys.html",
            "contacts.html",
            "contacts_import.html",
            "contact_import.html",
            "appointments.html",
            "numbers.html",
            "_agent_fields.html",
            "agents.html",
            "agent.html",
            "settings.html",
            "telephony.html",
            "sip_trunks.html",
            "wallet.html",
            "calls.html",
            "call.html",
            "templates.html",
            "template.html",
            "audit.html",
            "account_users.html",
            "roles.html"
        );
        Templates(env)
    }

    /// Renders `name` with `ctx`; a template error is logged and answered as a 500.
    pub fn render(&self, status: StatusCode, name: &str, ctx: impl Serialize) -> Response {
        match self.0.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => crate::error::ApiError::internal(format!("template {name}: {e:#}")).into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every template compiles and renders with an empty context (filters exist, blocks close).
    #[test]
    fn every_template_renders() {
        let t = Templates::new();
        for (name, _) in t.0.templates() {
            let out = t.0.get_template(name).and_then(|tpl| tpl.render(minijinja::context! {}));
            assert!(out.is_ok(), "{name}: {:?}", out.err());
        }
    }

    /// A `null` in the context (an `Option` that is `None`) leaves a field empty.
    #[test]
    fn none_renders_as_nothing() {
        let t = Templates::new();
        let html = t.0.render_str("<input value=\"{{ email }}\">{{ n }}", serde_json::json!({ "email": null, "n": 0 }));
        assert_eq!(html.unwrap(), "<input value=\"\">0");
        let login = t.0.get_template("login.html").unwrap().render(serde_json::json!({ "email": null })).unwrap();
        assert!(login.contains("name=\"email\" value=\"\""), "{login}");
    }
}
