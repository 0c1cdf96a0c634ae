//! Dashboard tests in real headless Chromium (W1, W5, W6, W7 as a person sees them).

use crate::common::{email, spawn_app};
use crate::webdriver::Browser;

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
    b.find("main h1").await;
    assert!(b.url().await.ends_with("/dashboard"), "lands on the dashboard");
    assert_eq!(b.text("#active-workspace .ws-name").await, "Shah Agency");
    assert!(!b.exists("details.dropdown").await, "one workspace: no dropdown");

    // Create a second workspace from Workspaces → Management.
    b.click("nav.links a[href='/workspaces']").await;
    b.click("#create-workspace summary").await;
    b.type_into("#create-workspace input[name=name]", "Client B – Support").await;
    b.click("#create-workspace button[type=submit]").await;
    b.find(".notice").await;
    assert!(b.exists("tr[data-workspace-name='Client B – Support']").await);
    // The creator is switched to it (W1).
    assert_eq!(b.text("#active-workspace .ws-name").await, "Client B – Support");
    if let Some(dir) = &shots {
        b.screenshot(&dir.join("workspaces.png")).await;
    }

    // Switch back, then into it again through the selector (W7).
    b.click("details.dropdown summary").await;
    b.click("button[data-workspace-name='Shah Agency']").await;
    b.find("main h1").await;
    assert_eq!(b.text("main h1").await, "Shah Agency");
    assert_eq!(b.text("#active-workspace .ws-name").await, "Shah Agency");
    b.click("details.dropdown summary").await;
    b.click("button[data-workspace-name='Client B – Support']").await;
    b.find("main h1").await;
    assert_eq!(b.text("main h1").await, "Client B – Support");
    assert_eq!(b.text("#active-workspace .ws-name").await, "Client B – Support", "W6: name in the top navigation");
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
    assert_eq!(b.text(".notice").await, "Workspace deleted.");
    assert!(!b.exists(row).await, "gone from the list");
    assert!(!b.exists("details.dropdown").await, "one workspace left: no dropdown");

    // A phone-width viewport still shows the active workspace.
    b.set_window(390, 844).await;
    b.goto(&format!("{}/dashboard", app.base)).await;
    assert_eq!(b.text("#active-workspace .ws-name").await, "Shah Agency");
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
    b.goto(&format!("{}/login", app.base)).await;
    b.type_into("input[name=email]", &u.email).await;
    b.type_into("input[name=password]", "correct horse battery").await;
    b.click("button[type=submit]").await;
    b.find("main h1").await;
    b.goto(&format!("{}/workspaces", app.base)).await;
    let row = "tr[data-workspace-name='Keep Me']";
    b.click(&format!("{row} details.delete summary")).await;
    b.type_into(&format!("{row} input[name=confirm_name]"), "keep me").await;
    b.click(&format!("{row} button.danger[type=submit]")).await;
    assert!(b.text("#error").await.contains("exactly"));
    assert!(b.exists(row).await);
    b.quit().await;
}
