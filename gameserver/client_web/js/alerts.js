// Telling a player it is their turn while they look elsewhere: the tab title while it is
// their turn, and on the change into their turn an optional sound (made with WebAudio, no
// file) and an optional desktop notification when the tab is hidden. Both options are off
// until the player turns them on (turnAlertsBox: the switches a room shows); the choice is
// kept in localStorage.

import { h } from "./dom.js";

const TURN_TITLE_MARK = "● Your turn — ";
const SOUND_KEY = "gs.turnSound";
const NOTIFY_KEY = "gs.turnNotify";
// Two short rising notes, quiet enough not to startle.
const TONES = [
  { hz: 660, at: 0, seconds: 0.12 },
  { hz: 880, at: 0.14, seconds: 0.16 },
];
const TONE_GAIN = 0.12;

export class TurnAlerts {
  constructor() {
    this.baseTitle = document.title;
    this.myTurn = false;
    this.audio = null;
    // Browsers only let a page make sound after the player touched it: the first key
    // or click wakes the audio up when the sound is on (e.g. after a reload).
    const wake = () => {
      if (this.soundOn) this._audio();
    };
    document.addEventListener("pointerdown", wake, { capture: true });
    document.addEventListener("keydown", wake, { capture: true });
  }

  get soundOn() {
    return localStorage.getItem(SOUND_KEY) === "on";
  }

  /** Turn the sound on or off; call it from a user gesture (a checkbox) so audio may start. */
  setSound(on) {
    localStorage.setItem(SOUND_KEY, on ? "on" : "off");
    if (on) this._audio();
  }

  /** Whether this browser can show notifications at all. */
  get notifySupported() {
    return "Notification" in window;
  }

  get notifyOn() {
    return this.notifySupported && Notification.permission === "granted" && localStorage.getItem(NOTIFY_KEY) === "on";
  }

  /**
   * Turn notifications on or off; call it from a user gesture, since turning them on may
   * ask the browser's permission. Resolves with whether they are on now (false when the
   * player or the browser refused).
   */
  async setNotify(on) {
    if (on && this.notifySupported && Notification.permission === "default") {
      await Notification.requestPermission();
    }
    localStorage.setItem(NOTIFY_KEY, on ? "on" : "off");
    return this.notifyOn;
  }

  /**
   * Call after every redraw of a room with whether it is this player's turn there and
   * the game's title. Keeps the tab title current and alerts once per turn.
   */
  update(myTurn, gameTitle) {
    document.title = myTurn ? TURN_TITLE_MARK + this.baseTitle : this.baseTitle;
    if (myTurn && !this.myTurn) {
      if (this.soundOn) this._beep();
      if (this.notifyOn && document.hidden) this._notify(gameTitle);
    }
    this.myTurn = myTurn;
  }

  /** The room is no longer on screen: nobody's turn. */
  clear() {
    this.update(false, "");
  }

  _audio() {
    if (!this.audio) {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return null;
      this.audio = new Context();
    }
    if (this.audio.state === "suspended") this.audio.resume().catch(() => {});
    return this.audio;
  }

  _beep() {
    const audio = this._audio();
    if (!audio) return;
    const now = audio.currentTime;
    for (const tone of TONES) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.frequency.value = tone.hz;
      // A quick fade in and out avoids clicks.
      gain.gain.setValueAtTime(0, now + tone.at);
      gain.gain.linearRampToValueAtTime(TONE_GAIN, now + tone.at + 0.02);
      gain.gain.linearRampToValueAtTime(0, now + tone.at + tone.seconds);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(now + tone.at);
      oscillator.stop(now + tone.at + tone.seconds);
    }
  }

  _notify(gameTitle) {
    const note = new Notification("Your turn", {
      body: gameTitle ? `${gameTitle}: it is your move.` : "It is your move.",
      tag: "gameserver-turn",
    });
    note.onclick = () => {
      window.focus();
      note.close();
    };
  }
}

/** The player's choices of how to be told it is their turn (sound, notification). */
export function turnAlertsBox(app) {
  const alerts = app.alerts;
  const sound = h("input", {
    type: "checkbox",
    id: "turn-sound",
    checked: alerts.soundOn,
    on: { change: () => alerts.setSound(sound.checked) },
  });
  const notify = h("input", {
    type: "checkbox",
    id: "turn-notify",
    checked: alerts.notifyOn,
    on: {
      change: async () => {
        notify.checked = await alerts.setNotify(notify.checked);
        if (!notify.checked && Notification.permission === "denied") {
          app.toast("This browser blocks notifications from this site; allow them in its site settings.", { kind: "info" });
        }
      },
    },
  });
  return h(
    "fieldset",
    { id: "turn-alerts", class: "turn-alerts" },
    h("legend", {}, "On my turn"),
    h("label", { class: "check" }, sound, " Play a sound"),
    alerts.notifySupported ? h("label", { class: "check" }, notify, " Notify me when this tab is hidden") : null,
  );
}
