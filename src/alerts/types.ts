import type { Trigger } from "../compare/settings";
import type { TextComparison } from "../compare/text";
import type { AlertChannelType, AlertEventType } from "../lib/values";

/**
 * What an alert says, as stored with it (JSON in `alerts.data`) when the job that saw the
 * occurrence raised it: everything the messages show, so sending needs no other row.
 */
export interface AlertWebsite {
  id: string;
  name: string;
  url: string;
}

export type AlertData =
  | {
      type: "change.detected";
      website: AlertWebsite;
      screenshot_id: string;
      baseline_id: string | null;
      captured_at: string;
      /** Changed ÷ compared pixels (0–1). */
      change_ratio: number | null;
      regions: number;
      size_changed: boolean | null;
      text: TextComparison | null;
      triggered: Trigger[];
      /** The small diff picture for emails (R2), when one was made. */
      image_key: string | null;
    }
  | { type: "screenshot.failed"; website: AlertWebsite; screenshot_id: string; error: string; at: string }
  | { type: "recovered"; website: AlertWebsite; screenshot_id: string; failing_since: string; at: string }
  | {
      type: "run.failed";
      website: AlertWebsite;
      scenario: { id: string; name: string };
      run_id: string;
      status: string;
      error: string | null;
      at: string;
    }
  | {
      type: "schedule.paused";
      website: AlertWebsite | null;
      schedule_id: string;
      /** What the schedule runs (a website or a scenario), as people read it. */
      target: string;
      reason: string | null;
      at: string;
    };

/** Every AlertData has the event type it is for. */
export type AlertOf<T extends AlertEventType> = Extract<AlertData, { type: T }>;

/** What one delivery sends, as the account's object hands it to the queue consumer. */
export type AlertPayload =
  | { kind: "alert"; alert: AlertData }
  | { kind: "digest"; alerts: AlertData[]; day: string; timezone: string; more: number }
  | { kind: "test" };

/** The channel as a message needs it. */
export interface ChannelTarget {
  id: string;
  type: AlertChannelType;
  target: string;
  /** The one-click unsubscribe link (email). */
  unsubscribeUrl: string;
}
