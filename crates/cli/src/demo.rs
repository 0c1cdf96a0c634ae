//! The demo organization `serve --demo` seeds: per workspace, agents, numbers (one
//! answering inbound calls), templates, a few thousand contacts with tags and flags
//! (through a real import job) and a week of appointments; then a month of calls across
//! the workspaces, paid from the account's funded wallet.

use std::collections::BTreeMap;
use std::sync::Arc;

use callplane_domain::clock::ManualClock;

use callplane_server::error::ApiResult;
use callplane_server::services::{
    agents, appointments, calls, contacts, imports, numbers, telephony, templates, wallet,
};
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
    // The post-call analysis both agents fill.
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
    let analysis = templates::create_analysis(state, scope, "Call outcome", &fields).await?;
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
            status: Some("active".into()),
            analysis_template_id: Some(analysis.id.clone()),
            ..agents::Input::default()
        };
        agent_ids.push(agents::create(state, scope, &input).await?.agent.id);
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

/// Days of call history the demo holds.
const HISTORY_DAYS: i64 = 30;

/// A month of calls in every workspace, played out on the simulated carrier by the real
/// call path on a clock that starts a month ago: holds and charges in the wallet's
/// ledger, transcripts, recordings and analyses. Runs before the service's workers start.
pub async fn seed_history(state: &AppState, account_id: &str, scopes: &[(Arc<Scope>, String)]) -> ApiResult<usize> {
    let day = callplane_domain::clock::DAY_MS;
    let today = state.now() - state.now() % day;
    let clock = Arc::new(ManualClock::new(today - HISTORY_DAYS * day));
    let past = state.with_clock(clock.clone());
    wallet::credit(&past, account_id, 2_000_000, "Demo top-up").await?;
    let mut placed = 0;
    for (scope, country) in scopes {
        if country == "GB" {
            for group in ["gb-mobile", "gb-landline"] {
                telephony::set_group(&past, scope, group, true).await?;
            }
        }
    }
    for d in 0..HISTORY_DAYS {
        for (index, (scope, country)) in scopes.iter().enumerate() {
            let mut read = scope.read().await?;
            let agent_list = callplane_store::product::agents::list(&mut read, None, 10).await?;
            let number_list =
                callplane_store::product::phone_numbers::list(&mut read, Some("active"), None, 10).await?;
            let people = callplane_store::product::contacts::get_by_phones(
                &mut read,
                &(9000..9010)
                    .map(|i| phone(country, index, i))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
            )
            .await?;
            drop(read);
            let Some(renewals) = agent_list.iter().find(|a| a.name == "Renewals") else { continue };
            let calls_today = 2 + ((d * 7 + index as i64) % 4) as usize;
            for k in 0..calls_today {
                let at = today - (HISTORY_DAYS - d) * day + (9 + 2 * k as i64) * 3_600_000 + (index as i64) * 600_000;
                clock.advance((at - past.now()).max(0));
                let n = d as usize * 11 + k * 5 + index;
                // Mostly contacts; now and then the carrier's busy, unanswered or failing numbers.
                let input = match n % 9 {
                    4 => calls::PlaceInput { to: Some(test_number(country, "0486")), ..Default::default() },
                    7 => calls::PlaceInput { to: Some(test_number(country, "0408")), ..Default::default() },
                    8 if d % 3 == 0 => {
                        calls::PlaceInput { to: Some(test_number(country, "0500")), ..Default::default() }
                    }
                    _ => calls::PlaceInput {
                        contact_id: people.get(n % people.len().max(1)).map(|c| c.id.clone()),
                        to: Some(phone(country, index, 500 + n)),
                        ..Default::default()
                    },
                };
                let input = calls::PlaceInput { agent_id: renewals.id.clone(), ..input };
                calls::place(&past, scope, &input).await?;
                play_out(&past, &clock).await;
                placed += 1;
            }
            // Every other day someone calls the receptionist's number.
            if let Some(number) =
                number_list.iter().find(|n| n.agent_id.is_some()).filter(|_| d % 2 == index as i64 % 2)
            {
                clock.advance(3_600_000);
                calls::receive(&past, &phone(country, index, 700 + d as usize), &number.e164).await?;
                play_out(&past, &clock).await;
                placed += 1;
            }
        }
    }
    Ok(placed)
}

/// Campaigns in every workspace: "VIP check-in" over the `vip` contacts, played out to
/// completion two days ago by the real dialer on a past clock; and "Renewal offers" over
/// the `renewal` contacts, starting a minute after seeding (once the contact import has
/// run), one call at a time, so the dashboard shows a campaign in progress.
pub async fn seed_campaigns(state: &AppState, scopes: &[(Arc<Scope>, String)]) -> ApiResult<()> {
    use callplane_server::services::{campaigns, dialer};
    let day = callplane_domain::clock::DAY_MS;
    let today = state.now() - state.now() % day;
    let clock = Arc::new(ManualClock::new(today - 2 * day + 10 * 3_600_000));
    let past = state.with_clock(clock.clone());
    let every_day = || campaigns::WindowInput {
        days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map(String::from).to_vec(),
        start: "08:00".into(),
        end: "21:00".into(),
    };
    for (scope, _) in scopes {
        let mut read = scope.read().await?;
        let agent_list = callplane_store::product::agents::list(&mut read, None, 10).await?;
        let numbers = callplane_store::product::phone_numbers::list(&mut read, Some("active"), None, 10).await?;
        drop(read);
        let Some(renewals) = agent_list.iter().find(|a| a.name == "Renewals") else { continue };
        let from: Vec<String> = numbers.iter().filter(|n| n.agent_id.is_none()).map(|n| n.id.clone()).collect();
        let base = campaigns::Input {
            agent_id: Some(renewals.id.clone()),
            number_ids: Some(from),
            window: Some(every_day()),
            max_attempts: Some(2),
            retry_delay_secs: Some(600),
            ..campaigns::Input::default()
        };
        let vip = campaigns::Input {
            name: Some("VIP check-in".into()),
            audience: Some(campaigns::Audience { tag: Some("vip".into()), ..campaigns::Audience::default() }),
            max_concurrency: Some(3),
            calls_per_second: Some(1),
            ..base.clone()
        };
        let c = campaigns::create(&past, scope, &vip).await?;
        campaigns::act(&past, scope, &c.id, "start").await?;
        for _ in 0..10_000 {
            dialer::work_once(&past).await;
            play_out(&past, &clock).await;
            if campaigns::get(scope, &c.id).await?.status == "completed" {
                break;
            }
            clock.advance(5_000);
        }
        let start_at = state.now() + 60_000;
        let renewal = campaigns::Input {
            name: Some("Renewal offers".into()),
            audience: Some(campaigns::Audience { tag: Some("renewal".into()), ..campaigns::Audience::default() }),
            max_concurrency: Some(1),
            calls_per_second: Some(1),
            start_at: Some(Some(start_at)),
            ..base
        };
        let c = campaigns::create(state, scope, &renewal).await?;
        campaigns::act(state, scope, &c.id, "start").await?;
    }
    Ok(())
}

/// Moves the clock from step to step until no call has a step left.
async fn play_out(state: &AppState, clock: &ManualClock) {
    while let Some(at) = calls::next_due(state).await {
        clock.advance((at - state.now()).max(0));
        calls::work_once(state).await;
    }
}

/// A number of the country ending in one of the simulated carrier's test suffixes.
fn test_number(country: &str, suffix: &str) -> String {
    match country {
        "GB" => format!("+44791120{suffix}"),
        "US" => format!("+1415555{suffix}"),
        _ => format!("+91987650{suffix}"),
    }
}
