export { notificationTypesOf, notificationProblems } from "../config/notifications.ts";
export { notificationPlanOf, notificationSubjectsOf, routedEvent, type NotificationPlan } from "./routes.ts";
export { NotificationSubscriber, type NotificationSubscriberOptions } from "./subscriber.ts";
export { NotificationContext } from "./context.ts";
export { startNotifications, withNotifications, type RunningNotifications, type StartNotificationsOptions } from "./start.ts";
