//! Templates with variables (SPEC P4): `{{contact.name}}`, `{{contact.custom.plan}}`,
//! `{{agent.name}}`, `{{workspace.name}}`. Checked on save against the known fields;
//! rendered against a contact (unknown values render as empty text).

/// The variables a template may use; `contact.custom.<key>` for any custom field.
pub const VARIABLES: &[&str] = &[
    "contact.name",
    "contact.phone",
    "contact.email",
    "contact.timezone",
    "contact.tags",
    "agent.name",
    "workspace.name",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// Splits a body into text and variables, or says what is malformed.
pub fn parse(body: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            out.push(Piece::Text(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err("a `{{` is not closed by `}}`".to_owned());
        };
        let name = after[..close].trim();
        if name.is_empty() {
            return Err("`{{}}` names no variable".to_owned());
        }
        out.push(Piece::Var(name));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

pub fn is_known(var: &str) -> bool {
    VARIABLES.contains(&var)
        || var.strip_prefix("contact.custom.").is_some_and(|k| {
            !k.is_empty()
                && k.len() <= 64
                && k.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

/// Checks a body: well-formed, and every variable known. The error says which.
pub fn check(body: &str) -> Result<Vec<String>, String> {
    let pieces = parse(body)?;
    let mut vars = Vec::new();
    for p in pieces {
        if let Piece::Var(v) = p {
            if !is_known(v) {
                return Err(format!(
                    "unknown variable `{{{{{v}}}}}`; known: {}, contact.custom.<key>",
                    VARIABLES.join(", ")
                ));
            }
            if !vars.iter().any(|x| x == v) {
                vars.push(v.to_owned());
            }
        }
    }
    Ok(vars)
}

/// Renders a checked body, each variable's value from `value` (absent: empty).
pub fn render(body: &str, value: impl Fn(&str) -> Option<String>) -> String {
    match parse(body) {
        Ok(pieces) => pieces
            .into_iter()
            .map(|p| match p {
                Piece::Text(t) => t.to_owned(),
                Piece::Var(v) => value(v).unwrap_or_default(),
            })
            .collect(),
        Err(_) => body.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p4_variables_are_checked_and_rendered() {
        assert_eq!(
            check("Hi {{ contact.name }}, your plan is {{contact.custom.plan}}.").unwrap(),
            ["contact.name", "contact.custom.plan"]
        );
        assert!(check("Hi {{contact.nmae}}").unwrap_err().contains("contact.nmae"));
        assert!(check("Hi {{contact.name").is_err());
        assert!(check("{{}}").is_err());
        assert!(check("{{contact.custom.Bad Key}}").is_err());
        let out = render("Hi {{contact.name}} from {{agent.name}}{{contact.email}}", |v| match v {
            "contact.name" => Some("Asha".into()),
            "agent.name" => Some("Riya".into()),
            _ => None,
        });
        assert_eq!(out, "Hi Asha from Riya");
    }
}
