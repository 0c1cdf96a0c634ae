//! The demo organization `serve --demo` seeds: per workspace, agents, numbers (one
//! answering inbound calls), templates, a few thousand contacts with tags and flags
//! (through a real import job) and a week of appointments.

use std::collections::BTreeMap;

use callplane_server::error::ApiResult;
use callplane_server::services::{agents, appointments, contacts, imports, numbers, templates};
use callplane_server::AppState;
use callplane_store::access::Scope;
use callplane_telephony::Search;

const FIRST: &[&str] =
    &["Asha", "Ravi", "Priya", "Arjun", "Meera", "Kabir", "Ananya", "Vikram", "Sara", "Rohan", "Isha", "Dev"];
const LAST: &[&str] =
    &["Rao", "Shah", "Iyer", "Khan", "Mehta", "Nair", "Das", "Kapoor", "Singh", "Patel", "Bose", "Menon"];
const TAGS: &[&str] = &["lead", "vip", "renewal", "churn-risk", "webinar"];
const PLANS: &[&str] = &["basic", "gold", "platinum"];

/// Contacts per workspace (imported as a CSV job, processed once the server runs).
const CONTACTS: usize = 3000;

pub async fn seed_workspace(state: &AppState, scope: &Scope, index: usize, country: &str) -> ApiResult<()> {
    // Agents.
    let mut agent_ids = Vec::new();
    for (name, prompt, first) in [
        (
            "Receptionist",
            "You answer calls for the clinic, book appointments and answer opening-hours questions.",
            "Hello! How can I help you today?",
        ),
        (
            "Renewals",
            "You call customers whose plan renews this month and offer the annual discount.",
            "Hi {{contact.name}}, this is a quick call about your plan.",
        ),
    ] {
        let input = agents::Input {
            name: Some(name.into()),
            system_prompt: Some(prompt.into()),
            first_message: Some(first.into()),
            ..agents::Input::default()
        };
        agent_ids.push(agents::create(state, scope, &input).await?.id);
    }
    // Numbers: one answering inbound calls.
    let offers =
        numbers::available(state, &Search { country: Some(country.into()), limit: 2, ..Search::default() }).await?;
    for (i, offer) in offers.iter().enumerate() {
        let n = numbers::buy(state, scope, &offer.e164, None).await?;
        if i == 0 {
            numbers::assign(state, scope, &n.id, Some(&agent_ids[0])).await?;
        }
    }
    // Templates.
    templates::create(
        state,
        scope,
        "Renewal reminder",
        "message",
        "Hi {{contact.name}}, your {{contact.custom.plan}} plan renews soon.",
    )
    .await?;
    templates::create(
        state,
        scope,
        "Receptionist prompt",
        "prompt",
        "You are the receptionist of {{workspace.name}}. Be brief and kind.",
    )
    .await?;
    let fields = vec![
        templates::AnalysisField {
            name: "interested".into(),
            kind: "boolean".into(),
            description: "Wants to continue".into(),
            enum_values: vec![],
        },
        templates::AnalysisField {
            name: "outcome".into(),
            kind: "enum".into(),
            description: "How the call ended".into(),
            enum_values: vec!["booked".into(), "callback".into(), "not_interested".into()],
        },
    ];
    templates::create_analysis(state, scope, "Call outcome", &fields).await?;
    // A handful of contacts written directly (the appointments need them now)…
    let mut people = Vec::new();
    for i in 0..10 {
        let input = contacts::Input {
            phone: Some(phone(country, index, 9000 + i)),
            name: Some(name(i + index * 7)),
            tags: Some(vec!["vip".into()]),
            ..contacts::Input::default()
        };
        people.push(contacts::create(state, scope, &input).await?.id);
    }
    // …and a few thousand through an import job, as a customer would.
    let mut csv = String::from("phone,name,email,tags,do_not_call,custom.plan\n");
    for i in 0..CONTACTS {
        let tags = format!("{};{}", TAGS[i % TAGS.len()], TAGS[(i / 7) % TAGS.len()]);
        let n = name(i);
        let email = format!("{}.{i}@example.com", n.to_lowercase().replace(' ', "."));
        csv.push_str(&format!("{},{n},{email},{tags},{},{}\n", phone(country, index, i), i % 23 == 0, PLANS[i % 3]));
    }
    let body = futures_util::stream::iter([Ok::<_, std::io::Error>(axum_bytes(csv))]);
    imports::upload(state, scope, "demo-contacts.csv", "update", &BTreeMap::new(), true, Box::pin(body)).await?;
    // A week of appointments, two a day.
    let now = state.now();
    let day = 24 * 3600 * 1000;
    let start_of_today = now - now % day;
    for d in 0..7 {
        for (slot, who) in [(10, 2 * d), (15, 2 * d + 1)] {
            let starts = start_of_today + d as i64 * day + slot * 3600 * 1000;
            let input = appointments::Input {
                contact_id: Some(people[who % people.len()].clone()),
                agent_id: Some(agent_ids[0].clone()),
                starts_at: Some(rfc3339(starts)),
                ends_at: Some(rfc3339(starts + 30 * 60 * 1000)),
                notes: Some("Booked by the receptionist agent".into()),
                ..appointments::Input::default()
            };
            appointments::create(state, scope, &input).await?;
        }
    }
    Ok(())
}

fn axum_bytes(s: String) -> callplane_server::Bytes {
    callplane_server::Bytes::from(s)
}

fn rfc3339(ms: i64) -> String {
    callplane_server::api::views::rfc3339(ms)
}

fn name(i: usize) -> String {
    format!("{} {}", FIRST[i % FIRST.len()], LAST[(i / FIRST.len()) % LAST.len()])
}

/// A valid mobile number of the country, distinct per workspace and index.
fn phone(country: &str, workspace: usize, i: usize) -> String {
    match country {
        "GB" => format!("+447911{workspace}{i:05}"),
        "US" => format!("+1415555{workspace}{i:03}"),
        _ => format!("+9198{workspace}{i:07}"),
    }
}
