//! Tauri's build step: reads tauri.conf.json, embeds the UI and icons, and
//! compiles the capabilities. Only the commands listed here may be granted to
//! the UI, and only those granted in src-tauri/capabilities/ may be called.

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(&[
        "app_info",
        "store_summary",
        "list_audiences",
        "delete_audience",
        "pick_files",
        "import_preview",
        "save_audience",
        "default_country",
        "set_default_country",
        "start_at_login",
        "set_start_at_login",
        "whatsapp_version",
        "set_whatsapp_version",
        "pacing_presets",
        "list_blasts",
        "list_accounts",
        "list_schedules",
        "schedule_runs",
        "add_schedule",
        "update_schedule",
        "set_schedule_enabled",
        "remove_schedule",
        "computer_time_zone",
        "add_account",
        "link_account",
        "logout_account",
        "reconnect_account",
        "cancel_link",
        "rename_account",
        "remove_account",
        "blast_plan",
        "set_account_pacing",
        "render_message",
        "create_blast",
        "pause_blast",
        "resume_blast",
        "cancel_blast",
        "decide_unknown",
        "blast_report",
        "blast_timeline",
        "export_report",
        "preferences",
        "set_language",
        "note_window_language",
        "finish_welcome",
        "save_draft",
        "start_rehearsal",
        "backup_database",
        "restore_database",
        "open_data_folder",
        "list_do_not_contact",
        "add_do_not_contact",
        "add_do_not_contact_file",
        "remove_do_not_contact",
        "opt_out_words",
        "set_opt_out_words",
        "pick_attachment",
        "resend_blast",
    ]);
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("src-tauri/capabilities/**/*")
        .app_manifest(manifest);
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {error:#}");
    }
}
