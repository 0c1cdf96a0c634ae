//! SPEC P1: CSV imports of contacts — streamed upload, durable job, dedup, per-row error
//! report, bad files refused clearly.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{email, spawn_app, TestApp, User};

async fn upload(app: &TestApp, u: &User, query: &str, csv: impl Into<reqwest::Body>) -> crate::common::Res {
    let url = format!("{}/api/v1/workspaces/{}/contacts/imports?{query}", app.base, u.workspace_id);
    let res =
        app.http.post(url).bearer_auth(&u.token).header("content-type", "text/csv").body(csv).send().await.unwrap();
    TestApp::read(res).await
}

/// Uploads and waits for the job to end; returns its final status.
pub(crate) async fn import(app: &TestApp, u: &User, query: &str, csv: impl Into<reqwest::Body>) -> Value {
    let created = upload(app, u, query, csv).await.expect(202);
    let path = format!("/api/v1/workspaces/{}/contacts/imports/{}", u.workspace_id, created["id"].as_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = app.get(&path, &u.token).await.expect(200);
        if matches!(status["status"].as_str(), Some("completed" | "failed")) {
            return status;
        }
        assert!(Instant::now() < deadline, "the import did not finish: {status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn error_report(app: &TestApp, u: &User, id: &str) -> String {
    let r = app.get(&format!("/api/v1/workspaces/{}/contacts/imports/{id}/errors", u.workspace_id), &u.token).await;
    assert_eq!(r.status.as_u16(), 200);
    r.body.as_str().unwrap().to_owned()
}

#[tokio::test]
async fn p1_import_counts_dedups_and_reports_bad_rows() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    app.post(
        &format!("/api/v1/workspaces/{}/contacts", u.workspace_id),
        &u.token,
        json!({ "phone": "+919876543200", "name": "Old" }),
    )
    .await
    .expect(201);
    let csv = "Phone,Name,Email,Tags,Plan\n\
               +919876543201,Asha,asha@example.com,vip;lead,gold\n\
               098765 43202,Ravi,,lead,\n\
               +919876543200,Renamed,,,\n\
               +919876543201,Asha Again,,,\n\
               not a phone,Bad,,,\n\
               +919876543203,Bad email,nope,,\n\
               +919876543204,Short row\n";
    let mapping = r#"{"Phone":"phone","Name":"name","Email":"email","Tags":"tags","Plan":"custom.plan"}"#;
    let done = import(&app, &u, &format!("mapping={}", urlencode(mapping)), csv).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        (done["rows_read"].as_i64(), done["imported"].as_i64(), done["updated"].as_i64(), done["failed"].as_i64()),
        (Some(7), Some(2), Some(2), Some(3)),
        "{done}"
    );
    let report = error_report(&app, &u, done["id"].as_str().unwrap()).await;
    let lines: Vec<&str> = report.trim_end().split("\r\n").collect();
    assert_eq!(lines[0], "row,column,reason");
    assert!(lines[1].starts_with("6,Phone,"), "{report}");
    assert!(lines[2].starts_with("7,Email,"), "{report}");
    assert!(lines[3].starts_with("8,,\"the row has 2 columns"), "{report}");
    let list = app.get(&format!("/api/v1/workspaces/{}/contacts?q=asha", u.workspace_id), &u.token).await.expect(200);
    let asha = &list["data"][0];
    assert_eq!(asha["name"], "Asha Again", "a later row of the file updates the earlier one");
    assert_eq!(asha["custom_fields"]["plan"], "gold");
    assert_eq!(asha["tags"], json!(["lead", "vip"]));

    // With `skip`, existing contacts are left alone.
    let again = import(&app, &u, "on_duplicate=skip", "phone,name\n+919876543200,Skipped\n+919876543299,New\n").await;
    assert_eq!((again["imported"].as_i64(), again["skipped"].as_i64()), (Some(1), Some(1)), "{again}");
    let old = app
        .get(&format!("/api/v1/workspaces/{}/contacts?q=%2B919876543200", u.workspace_id), &u.token)
        .await
        .expect(200);
    assert_eq!(old["data"][0]["name"], "Renamed");

    // An existing contact's phone twice in one file: skipped twice (not inserted anew
    // the second time, which the workspace's unique phone would refuse forever).
    let twice = "phone,name\n+919876543200,A\n+919876543200,B\n";
    let done = import(&app, &u, "on_duplicate=skip", twice).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!((done["imported"].as_i64(), done["skipped"].as_i64()), (Some(0), Some(2)), "{done}");
    // And with `update`, a first row refused (one custom field more than a contact may
    // hold) leaves the contact for the second row to update.
    let id = old["data"][0]["id"].as_str().unwrap();
    let full: serde_json::Map<String, Value> = (0..50).map(|i| (format!("f{i}"), json!("v"))).collect();
    app.patch(
        &format!("/api/v1/workspaces/{}/contacts/{id}", u.workspace_id),
        &u.token,
        json!({ "custom_fields": full }),
    )
    .await
    .expect(200);
    let csv = "phone,custom.extra,name\n+919876543200,x,C\n+919876543200,,D\n";
    let done = import(&app, &u, "", csv).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        (done["failed"].as_i64(), done["updated"].as_i64(), done["imported"].as_i64()),
        (Some(1), Some(1), Some(0))
    );
    let old = app
        .get(&format!("/api/v1/workspaces/{}/contacts?q=%2B919876543200", u.workspace_id), &u.token)
        .await
        .expect(200);
    assert_eq!(old["data"][0]["name"], "D");

    // A flag the import changes is audited like one changed through the API: who, when.
    let done = import(&app, &u, "", "phone,do_not_call\n+919876543200,yes\n").await;
    assert_eq!(done["updated"], 1, "{done}");
    let audit = app
        .get(&format!("/api/v1/workspaces/{}/audit-log?action=contact.flags_changed", u.workspace_id), &u.token)
        .await
        .expect(200);
    let events = audit["data"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{audit}");
    assert_eq!(events[0]["target_id"], id);
    assert_eq!(events[0]["actor_id"], u.user_id.as_str());
    assert_eq!(events[0]["after"]["do_not_call"], true, "{audit}");

    // The conventions' spelling (`POST …/contacts/import`) starts an import too.
    let url = format!("{}/api/v1/workspaces/{}/contacts/import", app.base, u.workspace_id);
    let res = app.http.post(url).bearer_auth(&u.token).body("phone\n+919876543298\n").send().await.unwrap();
    TestApp::read(res).await.expect(202);
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn p1_bad_files_are_refused_clearly_and_import_nothing_wrong() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    // An empty body is refused at once.
    upload(&app, &u, "", "").await.expect_problem(422, "validation_failed");
    // A bad mapping is refused at once.
    upload(&app, &u, &format!("mapping={}", urlencode(r#"{"A":"salary"}"#)), "A\n1\n")
        .await
        .expect_problem(422, "validation_failed");
    upload(&app, &u, "on_duplicate=merge", "phone\n").await.expect_problem(422, "validation_failed");
    // Whole-file errors end the job as failed with the reason.
    let no_phone = import(&app, &u, "", "name,email\nAsha,a@example.com\n").await;
    assert_eq!(no_phone["status"], "failed");
    assert!(no_phone["error"].as_str().unwrap().contains("phone"));
    let not_utf8 = import(&app, &u, "", b"\xff\xfe\x00p\x00h\n".to_vec()).await;
    assert_eq!(not_utf8["status"], "failed", "{not_utf8}");
    // Only a header: nothing to do.
    let header_only = import(&app, &u, "", "phone,name\n").await;
    assert_eq!((header_only["status"].as_str(), header_only["rows_read"].as_i64()), (Some("completed"), Some(0)));
    // Row by row: not UTF-8, a 10 MB cell, 200 columns, formula text kept as text.
    let mut csv = b"phone,name\n+919876543210,\xff\xfe\n".to_vec();
    csv.extend_from_slice(b"+919876543211,");
    csv.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    csv.extend_from_slice(b"\n");
    csv.extend_from_slice(format!("+919876543212{}\n", ",x".repeat(199)).as_bytes());
    csv.extend_from_slice(b"+919876543213,=HYPERLINK(\"http://evil\")\n");
    let mixed = import(&app, &u, "", csv).await;
    assert_eq!(mixed["status"], "completed", "{mixed}");
    assert_eq!((mixed["imported"].as_i64(), mixed["failed"].as_i64()), (Some(1), Some(3)), "{mixed}");
    let report = error_report(&app, &u, mixed["id"].as_str().unwrap()).await;
    assert!(report.contains("UTF-8") && report.contains("longer") && report.contains("columns"), "{report}");
    let list = app.get(&format!("/api/v1/workspaces/{}/contacts", u.workspace_id), &u.token).await.expect(200);
    let names: Vec<&str> = list["data"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["=HYPERLINK(\"http://evil\")"], "only the good row was imported, as text");
}

#[tokio::test]
async fn i1_an_import_is_not_readable_from_another_workspace() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let other = app.create_workspace(&u.token, "Other").await;
    let done = import(&app, &u, "", "phone\n+919876543210\n").await;
    let id = done["id"].as_str().unwrap();
    app.get(&format!("/api/v1/workspaces/{other}/contacts/imports/{id}"), &u.token)
        .await
        .expect_problem(404, "not_found");
    app.get(&format!("/api/v1/workspaces/{other}/contacts/imports/{id}/errors"), &u.token)
        .await
        .expect_problem(404, "not_found");
    let theirs = app.get(&format!("/api/v1/workspaces/{other}/contacts"), &u.token).await.expect(200);
    assert!(theirs["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn p1_national_numbers_in_an_import_are_read_in_the_workspaces_region_country() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let eu = app.post("/api/v1/workspaces", &u.token, json!({ "name": "Berlin", "region": "eu" })).await.expect(201);
    let eu_user = User { workspace_id: eu["id"].as_str().unwrap().to_owned(), ..u.clone() };
    // Whatever database the regions share, each workspace reads national numbers as its own region's.
    let done = import(&app, &eu_user, "", "phone,name\n030 12345678,Berliner\n").await;
    assert_eq!(done["imported"], 1, "{done}");
    let list = app.get(&format!("/api/v1/workspaces/{}/contacts", eu_user.workspace_id), &u.token).await.expect(200);
    assert_eq!(list["data"][0]["phone"], "+493012345678");
}

#[tokio::test]
async fn p1_the_dashboard_uploads_a_file_larger_than_a_request_body_may_be() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    // 40,000 rows, about 1.6 MB: above `server.max_body_bytes` (1 MiB), which bounds
    // JSON and form bodies, not a streamed file.
    let mut csv = String::from("phone,name,email\n");
    for i in 0..40_000 {
        csv.push_str(&format!("+9198{i:08},Person number {i},person{i}@example.com\n"));
    }
    assert!(csv.len() > 1024 * 1024 + 100_000);
    let boundary = "callplane-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = http
        .post(format!("{}/contacts/import?csrf=upload-csrf", app.base))
        .header("cookie", format!("cp_session={}; cp_csrf=upload-csrf", u.token))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303, "{:?}", res.text().await);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let id = to.rsplit('/').next().unwrap();
    let import = app.get(&format!("/api/v1/workspaces/{}/contacts/imports/{id}", u.workspace_id), &u.token).await;
    assert_eq!(import.expect(200)["status"], "uploaded", "waiting for its column mapping");
}

#[tokio::test]
async fn p1_w9_an_export_imports_back_whole() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let contacts = format!("/api/v1/workspaces/{}/contacts", u.workspace_id);
    let people = [
        json!({ "phone": "+919876543210", "name": "@SUM(A1)", "email": "a@example.com", "tags": ["vip", "lead"],
                "custom_fields": { "plan": "gold", "note": "-2, \"quoted\"" }, "do_not_call": true }),
        json!({ "phone": "+919876543211", "name": "Plain, Name", "timezone": "Asia/Kolkata", "opted_out": true }),
    ];
    for p in &people {
        app.post(&contacts, &u.token, p.clone()).await.expect(201);
    }
    let fields = ["phone", "name", "email", "timezone", "tags", "custom_fields", "do_not_call", "opted_out"];
    let view = |list: &Value| -> Vec<Value> {
        let mut rows: Vec<Value> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| fields.iter().map(|f| (f.to_string(), c[*f].clone())).collect())
            .collect();
        rows.sort_by_key(|r| r["phone"].as_str().unwrap().to_owned());
        rows
    };
    let before = view(&app.get(&contacts, &u.token).await.expect(200));
    let export = app.get(&format!("{contacts}/export"), &u.token).await;
    let csv = export.body.as_str().unwrap().to_owned();
    app.post(&format!("{contacts}/bulk-delete"), &u.token, json!({ "all": true })).await.expect(200);
    let done = import(&app, &u, "", csv).await;
    assert_eq!((done["imported"].as_i64(), done["failed"].as_i64()), (Some(2), Some(0)), "{done}");
    assert_eq!(view(&app.get(&contacts, &u.token).await.expect(200)), before, "every field came back");

    // A custom_fields cell that is not the export's JSON is refused for its row.
    let done = import(&app, &u, "", "phone,custom_fields\n+919876543212,plan=gold\n").await;
    assert_eq!(done["failed"], 1, "{done}");
    let report = error_report(&app, &u, done["id"].as_str().unwrap()).await;
    assert!(report.contains("2,custom_fields,\"must be a JSON object"), "{report}");

    // Mappings that cannot mean what they say are refused as a whole.
    let done = import(&app, &u, "", "phone,Phone\n+919876543213,+919876543214\n").await;
    assert_eq!(done["status"], "failed");
    assert!(done["error"].as_str().unwrap().contains("both map to phone"), "{done}");
    let mapping = urlencode(r#"{"Nope":"phone"}"#);
    let done = import(&app, &u, &format!("mapping={mapping}"), "phone\n+919876543215\n").await;
    assert_eq!(done["status"], "failed");
    assert!(done["error"].as_str().unwrap().contains("“Nope”"), "{done}");
}
