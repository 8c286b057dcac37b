/**
 * The plan table from the contract. Every limit in the code reads it; nothing else
 * hard-codes a plan's number.
 */
import type { PlanId } from "../lib/values";

export interface Plan {
  id: PlanId;
  /** Position for upgrade/downgrade decisions. */
  rank: number;
  apiAccess: boolean;
  requestsPerMinute: number;
  websites: number;
  historyDays: number;
  capturesPerDay: number;
  capturesPerMonth: number;
  bulkZip: boolean;
  teamUsers: number;
  /** Shortest allowed gap between two runs of a schedule. */
  fastestScheduleMinutes: number;
  /** Webhook endpoints the account may have. */
  webhookEndpoints: number;
  /** What it costs, in whole US dollars: a fixed fee a month, or a year (payment itself is out of scope). */
  price: { monthly: number; yearly: number };
  /** Alert channels (email, Slack, Discord) the account may have. */
  alertChannels: number;
}

export const PLANS: Readonly<Record<PlanId, Plan>> = {
  free: {
    id: "free",
    rank: 0,
    apiAccess: false,
    requestsPerMinute: 0,
    websites: 1,
    historyDays: 7,
    capturesPerDay: 20,
    capturesPerMonth: 200,
    bulkZip: false,
    teamUsers: 1,
    fastestScheduleMinutes: 24 * 60,
    webhookEndpoints: 1,
    price: { monthly: 0, yearly: 0 },
    alertChannels: 1,
  },
  starter: {
    id: "starter",
    rank: 1,
    apiAccess: true,
    requestsPerMinute: 5,
    websites: 5,
    historyDays: 30,
    capturesPerDay: 200,
    capturesPerMonth: 3_000,
    bulkZip: false,
    teamUsers: 3,
    fastestScheduleMinutes: 60,
    webhookEndpoints: 3,
    price: { monthly: 19, yearly: 190 },
    alertChannels: 3,
  },
  pro: {
    id: "pro",
    rank: 2,
    apiAccess: true,
    requestsPerMinute: 20,
    websites: 25,
    historyDays: 90,
    capturesPerDay: 1_000,
    capturesPerMonth: 20_000,
    bulkZip: true,
    teamUsers: 10,
    fastestScheduleMinutes: 15,
    webhookEndpoints: 10,
    price: { monthly: 49, yearly: 490 },
    alertChannels: 10,
  },
  business: {
    id: "business",
    rank: 3,
    apiAccess: true,
    requestsPerMinute: 60,
    websites: 100,
    historyDays: 365,
    capturesPerDay: 5_000,
    capturesPerMonth: 100_000,
    bulkZip: true,
    teamUsers: 50,
    fastestScheduleMinutes: 5,
    webhookEndpoints: 25,
    price: { monthly: 149, yearly: 1_490 },
    alertChannels: 25,
  },
};

export const planLimits = (plan: Plan) => ({
  api_access: plan.apiAccess,
  requests_per_minute: plan.requestsPerMinute,
  websites: plan.websites,
  history_days: plan.historyDays,
  captures_per_day: plan.capturesPerDay,
  captures_per_month: plan.capturesPerMonth,
  bulk_zip: plan.bulkZip,
  team_users: plan.teamUsers,
  fastest_schedule_minutes: plan.fastestScheduleMinutes,
  webhook_endpoints: plan.webhookEndpoints,
  alert_channels: plan.alertChannels,
});
