//! The `callplane contacts` commands against a real server (P1, W9).

use callplane_testkit::process::{Installation, Server};
use serde_json::json;

use crate::{bin, email};

#[tokio::test]
async fn p1_the_cli_imports_with_progress_and_exports() {
    let install = Installation::new("").await;
    let server = Server::start(bin(), &install, &[]);
    let (token, _, _, ws) = server.signup(&email("owner"), "CLI Co").await;
    let key = server
        .post(&format!("/api/v1/workspaces/{ws}/api-keys"), &token, json!({ "name": "cli", "role": "admin" }))
        .await
        .expect(201);
    let key = key["secret"].as_str().unwrap().to_owned();
    let file = install.dir.join("people.csv");
    let mut csv = String::from("Mobile,Full name\n");
    for i in 0..300 {
        csv.push_str(&format!("98765{i:05},Person {i}\n"));
    }
    csv.push_str("garbage,Bad\n");
    std::fs::write(&file, csv).unwrap();
    let run = |args: Vec<String>| {
        let out = std::process::Command::new(bin()).args(args).output().expect("the binary runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let common = |cmd: &str| -> Vec<String> {
        vec![
            "contacts".into(),
            cmd.into(),
            "--server".into(),
            server.base.clone(),
            "--token".into(),
            key.clone(),
            "--workspace".into(),
            ws.clone(),
        ]
    };
    let mut args = common("import");
    args.extend([file.display().to_string(), "--mapping".into(), r#"{"Mobile":"phone","Full name":"name"}"#.into()]);
    let (ok, stdout, stderr) = run(args);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("301 rows, 300 imported, 0 updated, 0 skipped, 1 failed"), "{stdout}");
    assert!(stderr.contains("100%"), "a progress bar: {stderr}");
    assert!(stderr.contains("/errors"), "the error report is pointed at: {stderr}");

    let out = install.dir.join("export.csv");
    let mut args = common("export");
    args.extend(["--output".into(), out.display().to_string()]);
    let (ok, _, stderr) = run(args);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("300 contacts exported"), "{stderr}");
    let exported = std::fs::read_to_string(&out).unwrap();
    assert!(exported.contains("'+919876500299,Person 299"), "E.164, defused for spreadsheets: {}", &exported[..200]);

    // A wrong key is a clear error, not a crash.
    let mut args = common("export");
    args[5] = "cp_live_wrong".into();
    let (ok, _, stderr) = run(args);
    assert!(!ok && stderr.contains("unauthenticated"), "{stderr}");
}
