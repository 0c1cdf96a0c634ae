//! Failpoints: named places between the steps of a multi-database operation where a
//! crash test stops the process. `CALLPLANE_FAILPOINTS=workspace.delete.after_mark`
//! makes the process print `failpoint reached: <name>` to stderr on reaching that
//! place and then wait forever, so the test can kill it with SIGKILL right there. Unset
//! (always, outside crash tests), a failpoint costs one check of a cached empty list.

use std::sync::OnceLock;

fn armed() -> &'static [String] {
    static ARMED: OnceLock<Vec<String>> = OnceLock::new();
    ARMED.get_or_init(|| {
        std::env::var("CALLPLANE_FAILPOINTS")
            .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    })
}

/// Stops the process here (forever) when `name` is armed.
pub fn hit(name: &str) {
    if armed().iter().any(|a| a == name) {
        eprintln!("failpoint reached: {name}");
        loop {
            std::thread::park();
        }
    }
}
