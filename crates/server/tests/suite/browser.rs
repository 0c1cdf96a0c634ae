//! Dashboard tests in real headless Chromium (W1, W5, W6, W7 as a person sees them).

use crate::common::{email, spawn_app};
use crate::webdriver::Browser;

/// Signs in through the form and waits for the dashboard to load (a navigation started
/// right after the click could otherwise be overtaken by the form's redirect).
async fn sign_in(b: &Browser, base: &str, email: &str) {
    b.goto(&format!("{base}/login")).await;
    b.type_into("input[name=email]", email).await;
    b.type_into("input[name=password]", "correct horse battery").await;
    b.click("button[type=submit]").await;
    b.expect_url("/dashboard").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w7_browser_signup_create_switch_refuse_and_delete_a_workspace() {
    let app = spawn_app().await;
    let b = Browser::start().await;
    let shots = std::env::var("CALLPLANE_SCREENSHOTS").ok().map(std::path::PathBuf::from);

    // Sign up.
    b.goto(&format!("{}/signup", app.base)).await;
    b.type_into("input[name=name]", "Priya Shah").await;
    b.type_into("input[name=email]", &email("priya")).await;
    b.type_into("input[name=password]", "a strong password").await;
    b.type_into("input[name=account_name]", "Shah Agency").await;
    b.click("button[type=submit]").await;
    b.expect_url("/dashboard").await;
    b.expect_text("#active-workspace .ws-name", "Shah Agency").await;
    assert!(!b.exists("details.dropdown").await, "one workspace: no dropdown");

    // Create a second workspace from Workspaces → Management.
    b.click("nav.links a[href='/workspaces']").await;
    b.click("#create-workspace summary").await;
    b.type_into("#create-workspace input[name=name]", "Client B – Support").await;
    b.click("#create-workspace button[type=submit]").await;
    b.find(".notice").await;
    assert!(b.exists("tr[data-workspace-name='Client B – Support']").await);
    // The creator is switched to it (W1).
    b.expect_text("#active-workspace .ws-name", "Client B – Support").await;
    if let Some(dir) = &shots {
        b.screenshot(&dir.join("workspaces.png")).await;
    }

    // Switch back, then into it again through the selector (W7).
    b.click("details.dropdown summary").await;
    b.click("button[data-workspace-name='Shah Agency']").await;
    b.find("main h1").await;
    b.expect_text("main h1", "Shah Agency").await;
    b.expect_text("#active-workspace .ws-name", "Shah Agency").await;
    b.click("details.dropdown summary").await;
    b.click("button[data-workspace-name='Client B – Support']").await;
    b.find("main h1").await;
    b.expect_text("main h1", "Client B – Support").await;
    b.expect_text("#active-workspace .ws-name", "Client B – Support").await;
    if let Some(dir) = &shots {
        b.screenshot(&dir.join("dashboard.png")).await;
    }

    // Deleting the active workspace is refused, with the reason shown (W5).
    b.click("nav.links a[href='/workspaces']").await;
    let row = "tr[data-workspace-name='Client B – Support']";
    b.click(&format!("{row} details.delete summary")).await;
    b.type_into(&format!("{row} input[name=confirm_name]"), "Client B – Support").await;
    b.click(&format!("{row} button.danger[type=submit]")).await;
    let reason = b.text("#error").await;
    assert!(reason.contains("active workspace"), "reason shown: {reason}");
    assert!(b.exists(row).await, "still there");

    // Switch back and delete it by typing its name.
    b.click("details.dropdown summary").await;
    b.click("button[data-workspace-name='Shah Agency']").await;
    b.find("main h1").await;
    b.click("nav.links a[href='/workspaces']").await;
    b.click(&format!("{row} details.delete summary")).await;
    b.type_into(&format!("{row} input[name=confirm_name]"), "Client B – Support").await;
    b.click(&format!("{row} button.danger[type=submit]")).await;
    b.expect_text(".notice", "Workspace deleted.").await;
    assert!(!b.exists(row).await, "gone from the list");
    assert!(!b.exists("details.dropdown").await, "one workspace left: no dropdown");

    // A phone-width viewport still shows the active workspace.
    b.set_window(390, 844).await;
    b.goto(&format!("{}/dashboard", app.base)).await;
    b.expect_text("#active-workspace .ws-name", "Shah Agency").await;
    if let Some(dir) = &shots {
        b.screenshot(&dir.join("phone.png")).await;
    }
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w5_browser_wrong_confirmation_is_refused_plainly() {
    let app = spawn_app().await;
    let u = app.signup(&email("typo"), "Typo Inc").await;
    app.create_workspace(&u.token, "Keep Me").await;
    let b = Browser::start().await;
    sign_in(&b, &app.base, &u.email).await;
    b.goto(&format!("{}/workspaces", app.base)).await;
    let row = "tr[data-workspace-name='Keep Me']";
    b.click(&format!("{row} details.delete summary")).await;
    b.type_into(&format!("{row} input[name=confirm_name]"), "keep me").await;
    b.click(&format!("{row} button.danger[type=submit]")).await;
    assert!(b.text("#error").await.contains("exactly"));
    assert!(b.exists(row).await);
    b.quit().await;
}

/// T1–T4 in the browser: the Owner invites a new person, the link (from the outbox) is
/// opened in a fresh browser, the person signs up and lands in the workspace with the
/// invited role; the Owner changes the role, then removes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t2_browser_invite_join_change_role_and_remove() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Studio North").await;
    let invitee = email("newhire");

    let a = Browser::start().await;
    a.goto(&format!("{}/login", app.base)).await;
    a.type_into("input[name=email]", &owner.email).await;
    a.type_into("input[name=password]", "correct horse battery").await;
    a.click("button[type=submit]").await;
    a.find("main h1").await;
    a.click("nav.links a[href='/settings/team']").await;
    a.type_into("#invite-form input[name=email]", &invitee).await;
    a.click("#invite-form button[type=submit]").await;
    a.find("#invite-link").await;
    // The same link is in the operator's outbox.
    let outbox = app.outbox().await;
    let mail = outbox.iter().find(|m| m.to_email == invitee).expect("email in the outbox");
    let link = mail.body.lines().find(|l| l.contains("/invite?token=")).unwrap().trim().to_owned();

    // A fresh browser (no cookies) opens the link and signs up.
    let b = Browser::start().await;
    b.goto(&link).await;
    b.click("#invite-signup").await;
    b.find("input[name=email][readonly]").await;
    b.type_into("input[name=name]", "New Hire").await;
    b.type_into("input[name=password]", "a fresh password").await;
    b.click("button[type=submit]").await;
    b.find("main h1").await;
    assert!(b.url().await.ends_with("/dashboard"));
    b.expect_text("main h1", "Studio North").await;
    assert!(b.text("main .muted").await.contains("your role: member"));

    // The Owner sees them, changes their role, then removes them.
    a.goto(&format!("{}/settings/team", app.base)).await;
    let row = format!("tr[data-member-email='{invitee}']");
    assert_eq!(a.text(&format!("{row} td.role")).await, "Member");
    let select = format!("{row} select[name=role]");
    a.click(&select).await;
    a.click(&format!("{select} option[value=viewer]")).await;
    a.click(&format!("{row} button.change-role")).await;
    a.expect_text(&format!("{row} td.role"), "Viewer").await;
    if let Ok(dir) = std::env::var("CALLPLANE_SCREENSHOTS") {
        a.screenshot(&std::path::Path::new(&dir).join("team.png")).await;
        a.goto(&format!("{}/account/roles", app.base)).await;
        a.screenshot(&std::path::Path::new(&dir).join("roles.png")).await;
        a.goto(&format!("{}/audit", app.base)).await;
        a.screenshot(&std::path::Path::new(&dir).join("audit.png")).await;
        a.goto(&format!("{}/settings/team", app.base)).await;
    }
    b.goto(&format!("{}/dashboard", app.base)).await;
    assert!(b.text("main .muted").await.contains("your role: viewer"));

    a.click(&format!("{row} button.remove-member")).await;
    a.expect_gone(&row, "gone from the members list").await;
    // Their next request no longer reaches the workspace.
    b.goto(&format!("{}/dashboard", app.base)).await;
    b.find("main h1").await;
    assert!(b.source().await.contains("not been given access to any workspace"));
    a.quit().await;
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p1_browser_import_a_csv_with_three_bad_rows_and_get_the_error_report() {
    let app = spawn_app().await;
    let b = Browser::start().await;
    let shots = std::env::var("CALLPLANE_SCREENSHOTS").ok().map(std::path::PathBuf::from);
    let person = email("importer");
    b.goto(&format!("{}/signup", app.base)).await;
    b.type_into("input[name=name]", "Imran").await;
    b.type_into("input[name=email]", &person).await;
    b.type_into("input[name=password]", "correct horse battery").await;
    b.type_into("input[name=account_name]", "Import Agency").await;
    b.click("button[type=submit]").await;
    b.expect_url("/dashboard").await;

    let file = app.data_dir.join("leads.csv");
    std::fs::create_dir_all(&app.data_dir).unwrap();
    let mut csv = String::from("Mobile,Full name,Plan\n");
    for i in 0..40 {
        csv.push_str(&format!("98765{i:05},Lead {i},gold\n"));
    }
    csv.push_str("not a phone,Bad one,\n12,Bad two,\n+1 999,Bad three,\n");
    std::fs::write(&file, csv).unwrap();

    b.goto(&format!("{}/contacts", app.base)).await;
    b.click("a[href='/contacts/import']").await;
    b.type_into("#upload-form input[type=file]", &file.display().to_string()).await;
    b.click("#upload-form button[type=submit]").await;
    // The preview: the first rows under each column, the phone column recognised.
    b.find("#mapping-form").await;
    assert!(b.source().await.contains("Lead 0"), "the first rows are shown");
    b.click("select[data-column='Mobile'] option[value='phone']").await;
    b.click("select[data-column='Full name'] option[value='name']").await;
    b.click("select[data-column='Plan'] option[value='custom']").await;
    if let Some(dir) = &shots {
        b.screenshot(&dir.join("import-mapping.png")).await;
    }
    b.click("#mapping-form button[type=submit]").await;
    // Progress refreshes on its own until the import is done.
    b.expect_text("#import-status", "completed").await;
    b.expect_text("#imported", "40").await;
    b.expect_text("#failed", "3").await;
    if let Some(dir) = &shots {
        b.screenshot(&dir.join("import-done.png")).await;
    }
    assert!(b.exists("#error-report").await);
    let report_path =
        b.url().await.split_once("/contacts/").map(|(_, rest)| format!("/contacts/{rest}/errors")).unwrap();
    let token = app.login(&person).await;
    let report = app.get(&report_path, &token).await;
    let report = report.body.as_str().unwrap().to_owned();
    assert_eq!(report.trim_end().split("\r\n").count(), 4, "a header and the three bad rows: {report}");
    assert!(report.contains("42,Mobile,"), "row numbers count the header: {report}");

    // The contacts are there, with the custom field.
    b.goto(&format!("{}/contacts?q=lead%2039", app.base)).await;
    b.expect_text("tr[data-contact-phone='+919876500039'] td.name", "Lead 39").await;
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p8_browser_book_two_appointments_and_see_the_overlap_refused() {
    let app = spawn_app().await;
    let person = email("booker");
    let u = app.signup(&person, "Clinic").await;
    app.post(
        &format!("/api/v1/workspaces/{}/contacts", u.workspace_id),
        &u.token,
        serde_json::json!({ "phone": "+919876543210", "name": "Asha Rao" }),
    )
    .await
    .expect(201);
    let b = Browser::start().await;
    sign_in(&b, &app.base, &person).await;
    let book = |start: &'static str| {
        let b = &b;
        let base = app.base.clone();
        async move {
            b.goto(&format!("{base}/appointments?week=2026-11-30")).await;
            b.click("#book summary").await;
            b.set_value("#book input[name=starts_at]", start).await;
            b.click("#book button[type=submit]").await;
        }
    };
    book("2026-12-01T10:00").await;
    b.expect_text(".notice", "Appointment booked.").await;
    assert!(b.source().await.contains("10:00–10:30"), "the week view shows it in the contact's zone");
    book("2026-12-01T10:15").await;
    b.find("#error").await;
    let error = b.text("#error").await;
    assert!(error.contains("overlaps appointment apt_"), "the reason is shown: {error}");
    if let Ok(dir) = std::env::var("CALLPLANE_SCREENSHOTS") {
        b.screenshot(&std::path::Path::new(&dir).join("appointments.png")).await;
    }
    book("2026-12-01T10:30").await;
    b.expect_text(".notice", "Appointment booked.").await;
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p2_browser_buy_a_number_and_assign_it_to_an_agent() {
    let app = spawn_app().await;
    let person = email("numbers");
    let u = app.signup(&person, "Call Centre").await;
    app.post(
        &format!("/api/v1/workspaces/{}/agents", u.workspace_id),
        &u.token,
        serde_json::json!({ "name": "Front desk" }),
    )
    .await
    .expect(201);
    let b = Browser::start().await;
    sign_in(&b, &app.base, &person).await;
    b.click("nav.links a[href='/numbers']").await;
    // The inventory of the workspace's country (India), in national format.
    b.expect_text("tr[data-offer='+918041230000'] strong", "080 4123 0000").await;
    b.click("tr[data-offer='+918041230000'] button[type=submit]").await;
    b.expect_text(".notice", "Bought 080 4123 0000.").await;
    assert!(!b.exists("tr[data-offer='+918041230000']").await, "no longer offered");
    let row = "tr[data-number='+918041230000']";
    b.click(&format!("{row} select[name=agent_id] option:nth-child(2)")).await;
    b.click(&format!("{row} button[type=submit]")).await;
    b.expect_text(".notice", "080 4123 0000 updated.").await;
    if let Ok(dir) = std::env::var("CALLPLANE_SCREENSHOTS") {
        b.screenshot(&std::path::Path::new(&dir).join("numbers.png")).await;
    }
    let numbers = app.get(&format!("/api/v1/workspaces/{}/phone-numbers", u.workspace_id), &u.token).await.expect(200);
    assert!(numbers["data"][0]["agent_id"].as_str().unwrap().starts_with("agt_"), "assigned to the agent");
    b.quit().await;
}

/// W8, P3, P4: set the workspace's default agent settings and country, create an agent
/// that starts from them and edit it, write a template and preview it against a contact.
#[tokio::test]
async fn w8_browser_default_settings_an_agent_and_a_template_preview() {
    let app = spawn_app().await;
    let person = email("agents");
    let u = app.signup(&person, "Agency").await;
    let ws = format!("/api/v1/workspaces/{}", u.workspace_id);
    let allowed = app.get(&format!("{ws}/settings"), &u.token).await.expect(200)["allowed"].clone();
    let voice = allowed["tts_voices"].as_array().unwrap().last().unwrap().as_str().unwrap().to_owned();
    let b = Browser::start().await;
    sign_in(&b, &app.base, &person).await;

    // Settings → Workspace: another default voice and the UK as the default country.
    b.click("nav.links a[href='/settings/workspace']").await;
    b.click(&format!("#settings-form select[name=tts_voice] option[value='{voice}']")).await;
    b.set_value("#settings-form input[name=default_country]", "GB").await;
    b.click("#settings-form button[type=submit]").await;
    b.expect_text(".notice", "Settings saved.").await;
    let s = app.get(&format!("{ws}/settings"), &u.token).await.expect(200);
    assert_eq!((s["default_country"].as_str(), s["agent_defaults"]["tts_voice"].as_str()), (Some("GB"), Some(&*voice)));

    // A new agent starts from those defaults; its page edits it.
    b.click("nav.links a[href='/agents']").await;
    b.click("#new-agent summary").await;
    b.set_value("#new-agent input[name=name]", "Front desk").await;
    b.click("#new-agent button[type=submit]").await;
    b.expect_text(".notice", "Agent “Front desk” created.").await;
    let agents = app.get(&format!("{ws}/agents"), &u.token).await.expect(200);
    assert_eq!(agents["data"][0]["tts_voice"], voice.as_str(), "the workspace default voice");
    b.click("#agents a").await;
    b.set_value("#agent-form input[name=first_message]", "Hello {{contact.name}}!").await;
    b.click("#agent-form button[type=submit]").await;
    b.expect_text(".notice", "Agent saved.").await;
    let agent = &app.get(&format!("{ws}/agents"), &u.token).await.expect(200)["data"][0];
    assert_eq!(agent["first_message"], "Hello {{contact.name}}!");

    // A template with an unknown variable is refused with the reason; then previewed.
    app.post(&format!("{ws}/contacts"), &u.token, serde_json::json!({ "phone": "020 7946 0958", "name": "Olivia" }))
        .await
        .expect(201);
    b.click("nav.links a[href='/templates']").await;
    b.click("#new-template summary").await;
    b.set_value("#new-template input[name=name]", "Reminder").await;
    b.set_value("#new-template textarea[name=body]", "Hi {{contact.nme}}").await;
    b.click("#new-template button[type=submit]").await;
    let refusal = b.text("#error").await;
    assert!(refusal.contains("unknown variable `{{contact.nme}}`"), "{refusal}");
    b.set_value("#new-template textarea[name=body]", "Hi {{contact.name}}, {{agent.name}} here.").await;
    b.click("#new-template button[type=submit]").await;
    b.expect_text(".notice", "Template “Reminder” created.").await;
    b.click("#templates a").await;
    b.click("#preview select[name=agent_id] option:nth-child(2)").await;
    b.click("#preview button[type=submit]").await;
    b.expect_text("#preview-text", "Hi Olivia, Front desk here.").await;
    if let Ok(dir) = std::env::var("CALLPLANE_SCREENSHOTS") {
        b.screenshot(&std::path::Path::new(&dir).join("template.png")).await;
    }
    b.quit().await;
}

/// N2, N4: Settings → Telephony Config: search by prefix, enable a network group with its
/// toggle, then switch the view to SIP/BYOC and see its flat-rate row and single toggle.
#[tokio::test]
async fn n2_browser_search_enable_a_group_and_see_sip_byoc() {
    let app = spawn_app().await;
    let person = email("telephony");
    let u = app.signup(&person, "Calls Inc").await;
    app.set_plan(&u.account_id, "professional").await;
    let ws = format!("/api/v1/workspaces/{}", u.workspace_id);
    let b = Browser::start().await;
    sign_in(&b, &app.base, &person).await;

    b.click("nav.links a[href='/settings/telephony']").await;
    b.set_value("#group-search input[name=q]", "+1415").await;
    b.click("#group-search button[type=submit]").await;
    b.expect_text("#groups tr[data-group='us-all'] td:first-child", "United States").await;
    let row = b.text("#groups tr[data-group='us-all']").await;
    assert!(row.contains("Disabled") && row.contains("+1415"), "{row}");
    assert!(row.contains('₹'), "the professional plan shows rates: {row}");
    b.click("#groups tr[data-group='us-all'] input.group-toggle").await;
    b.expect_text(".notice", "United States landline and mobile enabled.").await;
    let r = app.get(&format!("{ws}/telephony/route?to=%2B14155550100"), &u.token).await.expect(200);
    assert_eq!(r["network_group"], "us-all");

    b.click("#provider-view select[name=provider] option[value='sip']").await;
    b.expect_text("#sip-row td:first-child", "Your own SIP trunk (BYOC), every destination").await;
    let sip = b.text("#sip-row").await;
    assert!(sip.contains("/ min") && sip.contains("Disabled"), "{sip}");
    b.quit().await;
}

#[tokio::test]
async fn p7_browser_enable_a_group_place_a_test_call_watch_it_and_play_its_recording() {
    use callplane_server::services::{calls as call_worker, wallet};
    let app = spawn_app().await;
    let person = email("caller");
    let u = app.signup(&person, "Dial Co").await;
    let ws = format!("/api/v1/workspaces/{}", u.workspace_id);
    wallet::credit(&app.state, &u.account_id, 50_000, "test funds").await.unwrap();
    app.post(
        &format!("{ws}/agents"),
        &u.token,
        serde_json::json!({ "name": "Maya", "status": "active", "first_message": "Hello from {{workspace.name}}!" }),
    )
    .await
    .expect(201);
    let offer = app.get(&format!("{ws}/phone-numbers/available?country=IN&limit=1"), &u.token).await.expect(200);
    app.post(&format!("{ws}/phone-numbers"), &u.token, serde_json::json!({ "e164": offer["data"][0]["e164"] }))
        .await
        .expect(201);
    let b = Browser::start().await;
    sign_in(&b, &app.base, &person).await;

    // US numbers are off by default: the dashboard says why the call is refused.
    b.set_value("#test-call input[name=to]", "+14155550061").await;
    b.click("#test-call button[type=submit]").await;
    b.expect_text(".alert.error", "+14155550061 is in the network group United States landline and mobile (United States), which is disabled in this workspace.").await;
    b.click("nav.links a[href='/settings/telephony']").await;
    b.set_value("#group-search input[name=q]", "+1415").await;
    b.click("#group-search button[type=submit]").await;
    b.expect_text("#groups tr[data-group='us-all'] td:first-child", "United States").await;
    b.click("#groups tr[data-group='us-all'] input.group-toggle").await;
    b.expect_text(".notice", "United States landline and mobile enabled.").await;

    b.click("nav.links a[href='/dashboard']").await;
    b.set_value("#test-call input[name=to]", "+14155550061").await;
    b.click("#test-call button[type=submit]").await;
    b.expect_url_containing("/calls/call_").await;
    // The call's page refreshes itself while the call is in flight.
    for (ms, status) in [(0, "ringing"), (4_000, "in-progress"), (62_000, "completed")] {
        app.clock.advance(ms);
        call_worker::work_once(&app.state).await;
        b.expect_text("#call-status", status).await;
    }
    b.expect_text("#call-duration", "1:01").await;
    b.expect_text("#end-reason", "hangup").await;
    b.expect_text("#transcript .turn-agent p", "Hello from Dial Co!").await;
    assert!(b.exists("#analysis").await);
    let played = b
        .run_async(
            "const done = arguments[arguments.length - 1];
             const a = document.querySelector('#recording audio');
             a.muted = true;
             a.play().then(() => setTimeout(() => done({ duration: a.duration, time: a.currentTime, paused: a.paused }), 700))
                     .catch(e => done({ error: String(e), code: a.error && a.error.code }));",
        )
        .await;
    assert_eq!(played["duration"].as_f64().map(f64::round), Some(61.0), "the browser decoded the WAV: {played}");
    assert!(played["time"].as_f64().unwrap_or(0.0) > 0.0 && played["paused"] == false, "it plays: {played}");

    // The history lists it; the filter by status finds it.
    b.click("nav.links a[href='/calls']").await;
    b.expect_text("#calls tbody tr td:nth-child(4) .status", "completed").await;
    b.goto(&format!("{}/calls?status=busy", app.base)).await;
    b.expect_text("#calls tbody td", "No calls match.").await;
    b.quit().await;
}

/// E2 in the browser: add an endpoint, send a test event, see its attempt in the
/// delivery log, redeliver it (same webhook-id).
#[tokio::test]
async fn e2_browser_add_an_endpoint_send_a_test_event_see_the_attempt_and_redeliver_it() {
    use callplane_testkit::receiver::Receiver;
    let app = crate::common::spawn_with(|c| c.webhooks.allow_private_targets = true).await;
    let r = Receiver::start().await;
    let person = email("hooks");
    let u = app.signup(&person, "Hook Co").await;
    let b = Browser::start().await;
    sign_in(&b, &app.base, &person).await;

    b.click("nav.links a[href='/settings/webhooks']").await;
    b.click("#new-webhook summary").await;
    b.set_value("#new-webhook input[name=url]", &r.url("/dash")).await;
    b.set_value("#new-webhook input[name=description]", "CRM sync").await;
    b.click("#new-webhook input[value='webhook.test']").await;
    b.click("#new-webhook button[type=submit]").await;
    b.expect_text(".notice", "Endpoint added.").await;
    let secret = b.run_async("arguments[arguments.length - 1](document.querySelector('#webhook-secret').value)").await;
    let secret = secret.as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "the secret is shown once: {secret}");
    let list = app.get(&format!("/api/v1/workspaces/{}/webhooks", u.workspace_id), &u.token).await.expect(200);
    assert_eq!(list["data"][0]["event_types"], serde_json::json!(["webhook.test"]));
    let page = format!("{}/settings/webhooks/{}", app.base, list["data"][0]["id"].as_str().unwrap());

    b.click("#send-test").await;
    b.expect_text(".notice", "Test event sent; its attempt appears in the delivery log.").await;
    let got = r.wait_for("/dash", 1, std::time::Duration::from_secs(20)).await;
    let mut headers = axum::http::HeaderMap::new();
    for (k, v) in &got[0].headers {
        headers.insert(axum::http::HeaderName::try_from(k.as_str()).unwrap(), v.parse().unwrap());
    }
    standardwebhooks::Webhook::new(&secret).unwrap().verify(got[0].body.as_bytes(), &headers).expect("signed");
    let rows = |n: usize| format!("#attempts tbody tr:nth-child({n})");
    reload_until(&b, &page, &rows(1)).await;
    b.expect_text(&format!("{} .attempt-status", rows(1)), "200").await;

    b.click(&format!("{} button.redeliver", rows(1))).await;
    b.expect_text(".notice", "Redelivery queued with the same webhook-id.").await;
    let got = r.wait_for("/dash", 2, std::time::Duration::from_secs(20)).await;
    assert_eq!(got[1].header("webhook-id"), got[0].header("webhook-id"));
    reload_until(&b, &page, &rows(2)).await;
    b.expect_text("#count-delivered", "1").await;
    b.quit().await;
}

/// Reloads `url` until `css` matches (work done in the background shows on reload).
async fn reload_until(b: &Browser, url: &str, css: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        b.goto(url).await;
        if b.exists(css).await {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{css} never appeared on {url}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p6_browser_create_a_campaign_from_a_tag_start_it_watch_progress_pause_and_see_analytics() {
    use callplane_server::services::{calls as call_worker, dialer, wallet};
    use serde_json::json;
    let app = crate::common::spawn_with(|c| c.campaigns.dialer = false).await;
    let person = email("campaigns");
    let u = app.signup(&person, "Campaign Co").await;
    let ws = format!("/api/v1/workspaces/{}", u.workspace_id);
    app.post(&format!("{ws}/agents"), &u.token, json!({ "name": "Closer", "status": "active" })).await.expect(201);
    let offer = app.get(&format!("{ws}/phone-numbers/available?country=IN&limit=1"), &u.token).await.expect(200);
    app.post(&format!("{ws}/phone-numbers"), &u.token, json!({ "e164": offer["data"][0]["e164"] })).await.expect(201);
    wallet::credit(&app.state, &u.account_id, 1_000_000, "test funds").await.unwrap();
    for i in 0..6 {
        let body = json!({ "phone": format!("+9198765009{i:02}"), "name": format!("Lead {i}"), "tags": ["vip"] });
        app.post(&format!("{ws}/contacts"), &u.token, body).await.expect(201);
    }
    app.post(&format!("{ws}/contacts"), &u.token, json!({ "phone": "+919876500999" })).await.expect(201);

    let b = Browser::start().await;
    sign_in(&b, &app.base, &person).await;
    b.expect_text("#kpi-calls", "0").await;
    b.click("nav.links a[href='/campaigns']").await;
    b.click("#new-campaign summary").await;
    b.set_value("#new-campaign input[name=name]", "VIP follow-up").await;
    b.set_value("#new-campaign input[name=tag]", "vip").await;
    for day in ["sat", "sun"] {
        b.click(&format!("#new-campaign input[name=days][value={day}]")).await;
    }
    b.set_value("#new-campaign input[name=start]", "00:00").await;
    b.set_value("#new-campaign input[name=end]", "00:00").await;
    b.set_value("#new-campaign input[name=max_concurrency]", "2").await;
    b.click("#new-campaign button[type=submit]").await;
    b.expect_url_containing("/campaigns/cmp_").await;
    b.expect_text("#campaign-status", "draft").await;
    b.click("#campaign-start").await;
    b.expect_text("#campaign-status", "running").await;
    b.expect_text("#remaining", "6").await;

    // The page refreshes itself while the dialer works: the figures move.
    let step = || async {
        dialer::work_once(&app.state).await;
        app.clock.advance(1_000);
        call_worker::work_once(&app.state).await;
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        step().await;
        if b.text("#dialed").await != "0" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the progress never moved");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    b.click("#campaign-pause").await;
    b.expect_text("#campaign-status", "paused").await;
    let dialed: i64 = b.text("#dialed").await.parse().unwrap();
    assert!((1..6).contains(&dialed), "paused part-way: {dialed}");
    // Calls in flight finish; the paused campaign dials nobody else.
    for _ in 0..200 {
        step().await;
    }
    b.goto(&b.url().await).await;
    b.expect_text("#dialed", &dialed.to_string()).await;
    b.expect_text("#in-progress", "0").await;

    // The dashboard's analytics show today's calls.
    b.click("nav.links a[href='/dashboard']").await;
    b.expect_text("#kpi-calls", &dialed.to_string()).await;
    let today = b.run_async("arguments[arguments.length - 1](Array.from(document.querySelectorAll('#chart-daily g.day')).map(g => Number(g.dataset.calls)).reduce((a, b) => a + b, 0))").await;
    assert_eq!(today.as_i64(), Some(dialed), "the chart counts the campaign's calls");
    assert!(b.exists("#by-campaign").await);
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n2_browser_add_a_sip_trunk_and_place_a_test_call_through_it_to_a_real_sip_peer() {
    let app = crate::common::spawn_with(|c| {
        c.sip.listen = Some("127.0.0.1:0".parse().unwrap());
        c.sip.rtp_port_min = 20_000;
        c.sip.rtp_port_max = 29_998;
    })
    .await;
    let person = email("sip-ui");
    let u = app.signup(&person, "Trunk Inc").await;
    let ws = format!("/api/v1/workspaces/{}", u.workspace_id);
    callplane_server::services::wallet::credit(&app.state, &u.account_id, 10_000, "test funds").await.unwrap();
    app.post(&format!("{ws}/agents"), &u.token, serde_json::json!({ "name": "Maya", "status": "active" }))
        .await
        .expect(201);
    let offer = app.get(&format!("{ws}/phone-numbers/available?country=IN&limit=1"), &u.token).await.expect(200);
    app.post(&format!("{ws}/phone-numbers"), &u.token, serde_json::json!({ "e164": offer["data"][0]["e164"] }))
        .await
        .expect(201);
    // The far end answers, echoes for 2 s and hangs up.
    let peer = callplane_testkit::sipp::spawn("browser", &["-sf", "uas_far_bye.xml", "-rtp_echo", "-d", "2000"]);
    let b = Browser::start().await;
    sign_in(&b, &app.base, &person).await;

    b.goto(&format!("{}/settings/telephony?provider=sip", app.base)).await;
    b.click("#sip-trunks-link").await;
    b.expect_url("/settings/telephony/sip").await;
    b.type_into("#add-trunk input[name=name]", "Loopback carrier").await;
    b.click("#add-trunk select[name=kind] option[value='digest']").await;
    b.type_into("#add-trunk input[name=host]", "127.0.0.1").await;
    b.set_value("#add-trunk input[name=port]", &peer.sip.port().to_string()).await;
    b.type_into("#add-trunk input[name=inbound_cidrs]", "127.0.0.1/32").await;
    b.type_into("#add-trunk input[name=username]", "trunkuser").await;
    b.type_into("#add-trunk input[name=password]", "s3cret-carrier").await;
    b.click("#add-trunk button[type=submit]").await;
    b.expect_text(".notice", "Trunk Loopback carrier added.").await;
    let row = b.text("#trunks tbody tr").await;
    assert!(row.contains("127.0.0.1:") && row.contains("in from 127.0.0.1/32"), "{row}");
    assert!(row.contains("trunkuser") && row.contains("password set"), "{row}");
    assert!(!b.source().await.contains("s3cret-carrier"), "the password is never shown");

    // A test call through the trunk opens the call's page, which shows what SIP carried.
    b.type_into("#trunks form.test-call input[name=to]", "+919812345678").await;
    b.click("#trunks form.test-call button[type=submit]").await;
    b.expect_url_containing("/calls/call_").await;
    let url = b.url().await;
    reload_until(&b, &url, "#sip-packets").await;
    b.expect_text("#sip-codec", "PCMU").await;
    b.expect_text("#sip-code", "200").await;
    let packets = b.text("#sip-packets").await;
    assert!(packets.contains("sent") && packets.contains("received"), "{packets}");
    assert_eq!(peer.exit_code().await, 0);

    // A campaign may dial through the trunk: the new-campaign form offers it.
    b.goto(&format!("{}/campaigns", app.base)).await;
    b.click("#new-campaign summary").await;
    b.click("#campaign-trunk option[value^='trk_']").await;
    let chosen = b.text("#campaign-trunk option:checked").await;
    assert_eq!(chosen.trim(), "SIP trunk Loopback carrier");

    // A registration trunk shows where its registration stands.
    let registrar = callplane_testkit::sipp::spawn(
        "browser-registrar",
        &["-sf", "registrar.xml", "-set", "authuser", "reguser", "-set", "authpass", "reg-s3cret"],
    );
    b.goto(&format!("{}/settings/telephony/sip", app.base)).await;
    b.type_into("#add-trunk input[name=name]", "Registered carrier").await;
    b.click("#add-trunk select[name=kind] option[value='registration']").await;
    b.type_into("#add-trunk input[name=host]", "127.0.0.1").await;
    b.set_value("#add-trunk input[name=port]", &registrar.sip.port().to_string()).await;
    b.type_into("#add-trunk input[name=username]", "reguser").await;
    b.type_into("#add-trunk input[name=password]", "reg-s3cret").await;
    b.click("#add-trunk button[type=submit]").await;
    b.expect_text(".notice", "Trunk Registered carrier added.").await;
    reload_until(&b, &format!("{}/settings/telephony/sip", app.base), ".registration .status.active").await;
    let status = b.text(".registration").await;
    assert!(status.contains("registered") && status.contains("60 s"), "{status}");
    b.quit().await;
}
