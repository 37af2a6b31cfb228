//! The tray icon: the app's handle while its window is closed.

use std::panic::{AssertUnwindSafe, catch_unwind};

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, include_image};

use crate::window;
use crate::words::{Lang, Words};

const OPEN: &str = "open";
const QUIT: &str = "quit";
const ATTENTION: &str = "attention";
const NEXT_RUN: &str = "next-run";
const UPDATE: &str = "update";

/// Installs the tray icon. Returns false where the system has no tray (a Linux
/// desktop without an indicator library); the app then runs without one, and
/// closing its window quits it.
pub fn install(app: &AppHandle) -> bool {
    // The Linux indicator binding panics when its library is missing: that is
    // "no tray here", not a reason to crash.
    match catch_unwind(AssertUnwindSafe(|| build(app))) {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            tracing::warn!("no tray icon: {error}");
            false
        }
        Err(_) => {
            tracing::warn!("no tray icon: this system has no tray host");
            false
        }
    }
}

/// The tray menu's items whose words change.
pub struct TrayMenu {
    open: MenuItem<tauri::Wry>,
    quit: MenuItem<tauri::Wry>,
    /// Which accounts need the person.
    attention: MenuItem<tauri::Wry>,
    /// When the next scheduled blast runs.
    next_run: MenuItem<tauri::Wry>,
    /// Whether an update is offered; choosing it shows the offer.
    update: MenuItem<tauri::Wry>,
}

fn build(app: &AppHandle) -> tauri::Result<()> {
    let words = |w: Words<'_>| w.text(Lang::En);
    let open = MenuItem::with_id(app, OPEN, words(Words::OpenBlastdesk), true, None::<&str>)?;
    let attention = MenuItem::with_id(
        app,
        ATTENTION,
        words(Words::AllAccountsFine),
        false,
        None::<&str>,
    )?;
    let next_run = MenuItem::with_id(
        app,
        NEXT_RUN,
        words(Words::NothingScheduled),
        false,
        None::<&str>,
    )?;
    let update = MenuItem::with_id(
        app,
        UPDATE,
        words(Words::NoUpdateWaiting),
        false,
        None::<&str>,
    )?;
    let separator = PredefinedMenuItem::separator(app)?;
    let quit = MenuItem::with_id(app, QUIT, words(Words::QuitBlastdesk), true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[&open, &attention, &next_run, &update, &separator, &quit],
    )?;
    app.manage(TrayMenu {
        open,
        quit,
        attention,
        next_run,
        update,
    });
    // macOS draws menu-bar icons from a template image, in the bar's own
    // colour (light or dark); Windows and Linux show the coloured mark.
    #[cfg(target_os = "macos")]
    let (icon, template) = (include_image!("icons/tray-template.png"), true);
    #[cfg(not(target_os = "macos"))]
    let (icon, template) = (include_image!("icons/tray.png"), false);
    TrayIconBuilder::with_id("main")
        .icon(icon)
        .icon_as_template(template)
        .tooltip("Blastdesk")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            OPEN => window::show_main(app),
            UPDATE => window::show_update(app),
            QUIT => {
                tracing::info!("quit from the tray");
                app.exit(0);
            }
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                window::show_main(tray.app_handle());
            }
        })
        .build(app)?;
    Ok(())
}

/// Sets the tray icon's tooltip (no-op without a tray).
pub fn set_tooltip(app: &AppHandle, text: &str) {
    if let Some(tray) = app.tray_by_id("main")
        && let Err(error) = tray.set_tooltip(Some(text))
    {
        tracing::warn!("cannot set the tray tooltip: {error}");
    }
}

/// Says everything in the tray menu again, in the language now chosen.
pub fn refresh_all(app: &AppHandle, store: &blastdesk_core::Store) {
    if let Some(menu) = app.try_state::<TrayMenu>() {
        let lang = Lang::of(store);
        for (item, words) in [
            (&menu.open, Words::OpenBlastdesk),
            (&menu.quit, Words::QuitBlastdesk),
        ] {
            if let Err(error) = item.set_text(words.text(lang)) {
                tracing::warn!("cannot update the tray menu: {error}");
            }
        }
    }
    refresh_attention(app, store);
    refresh_next_run(app, store);
    if let Some(updates) = app.try_state::<crate::updates::Updates>() {
        refresh_update(app, store, &updates.status());
    }
}

/// Says in the tray menu how many accounts need the person (logged out,
/// banned, disconnected, ...), with their names.
pub fn refresh_attention(app: &AppHandle, store: &blastdesk_core::Store) {
    let Some(menu) = app.try_state::<TrayMenu>() else {
        return;
    };
    let names: Vec<String> = store
        .list_accounts()
        .map(|all| {
            all.into_iter()
                .filter(|a| a.needs_attention)
                .map(|a| a.name)
                .collect()
        })
        .unwrap_or_default();
    let text = attention_text(&names, Lang::of(store));
    if let Err(error) = menu.attention.set_text(text) {
        tracing::warn!("cannot update the tray menu: {error}");
    }
}

/// Says in the tray menu whether an update is offered (and important).
pub fn refresh_update(
    app: &AppHandle,
    store: &blastdesk_core::Store,
    status: &blastdesk_core::updates::UpdateStatus,
) {
    let Some(menu) = app.try_state::<TrayMenu>() else {
        return;
    };
    let (text, enabled) = update_text(status, Lang::of(store));
    if let Err(error) = menu
        .update
        .set_text(text)
        .and_then(|()| menu.update.set_enabled(enabled))
    {
        tracing::warn!("cannot update the tray menu: {error}");
    }
}

/// The tray's update line, and whether choosing it does something.
fn update_text(status: &blastdesk_core::updates::UpdateStatus, lang: Lang) -> (String, bool) {
    use blastdesk_core::updates::UpdateStatus;
    match status {
        UpdateStatus::Available { offer } => {
            let version = &offer.version;
            let words = if offer.important.is_some() {
                Words::ImportantUpdate { version }
            } else {
                Words::UpdateAvailable { version }
            };
            (words.text(lang), true)
        }
        UpdateStatus::Downloading { offer, .. }
        | UpdateStatus::Finishing { offer }
        | UpdateStatus::Restarting { offer } => (
            Words::UpdateInstalling {
                version: &offer.version,
            }
            .text(lang),
            true,
        ),
        _ => (Words::NoUpdateWaiting.text(lang), false),
    }
}

/// Says in the tray menu when the next scheduled blast runs.
pub fn refresh_next_run(app: &AppHandle, store: &blastdesk_core::Store) {
    let Some(menu) = app.try_state::<TrayMenu>() else {
        return;
    };
    let lang = Lang::of(store);
    let next = store
        .list_schedules()
        .unwrap_or_default()
        .into_iter()
        .filter(|s| s.enabled)
        .filter_map(|s| s.next_run_at.map(|at| (at, s.spec.name)))
        .min();
    let text = match next {
        None => Words::NothingScheduled.text(lang),
        Some((at, name)) => {
            let here = blastdesk_core::zone::computer();
            let when = blastdesk_core::zone::local(here, at)
                .format("%d/%m %H:%M")
                .to_string();
            Words::NextRun {
                name: &name,
                when: &when,
            }
            .text(lang)
        }
    };
    if let Err(error) = menu.next_run.set_text(text) {
        tracing::warn!("cannot update the tray menu: {error}");
    }
}

fn attention_text(names: &[String], lang: Lang) -> String {
    match names {
        [] => Words::AllAccountsFine.text(lang),
        [one] => Words::NeedsAttention { name: one }.text(lang),
        many => Words::AccountsNeedAttention {
            count: many.len(),
            names: &many.join(", "),
        }
        .text(lang),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tray_offers_an_update_and_says_when_it_is_important() {
        use blastdesk_core::updates::{Offer, UpdateStatus};
        let offer = |important: Option<&str>| Offer {
            version: "0.2.0".into(),
            date: None,
            notes: None,
            important: important.map(str::to_owned),
        };
        for (status, text, enabled) in [
            (UpdateStatus::NotChecked, "No update waiting", false),
            (
                UpdateStatus::UpToDate { checked_at_ms: 1 },
                "No update waiting",
                false,
            ),
            (
                UpdateStatus::Available { offer: offer(None) },
                "Update available: Blastdesk 0.2.0",
                true,
            ),
            (
                UpdateStatus::Available {
                    offer: offer(Some("WhatsApp changed")),
                },
                "Important update: Blastdesk 0.2.0",
                true,
            ),
            (
                UpdateStatus::Finishing { offer: offer(None) },
                "Installing Blastdesk 0.2.0…",
                true,
            ),
        ] {
            assert_eq!(
                super::update_text(&status, super::Lang::En),
                (text.to_owned(), enabled)
            );
        }
    }

    #[test]
    fn the_tray_names_the_accounts_that_need_attention() {
        let names = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            super::attention_text(&[], super::Lang::En),
            "Every account is fine"
        );
        assert_eq!(
            super::attention_text(&names(&["Toko"]), super::Lang::En),
            "Toko needs attention"
        );
        assert_eq!(
            super::attention_text(&names(&["Toko", "Cabang"]), super::Lang::En),
            "2 accounts need attention: Toko, Cabang"
        );
    }
}
