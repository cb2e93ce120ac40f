/** What the daemon and the CLI use from the notification area (see docs/notifications.md). */
export { Notifier, type NotifierDeps, type NotifierStatus, type NotifierState } from './notifier.js';
export { readNotificationsConfig, redactUrl, NOTIFICATION_DEFAULTS, type NotificationsConfig } from './config.js';
export { OutboxLockedError } from './outbox-lock.js';
export { EVENT_TYPES, toNotification, encodeEnvelope, decodeEnvelope, type OsloNotification } from './envelope.js';
