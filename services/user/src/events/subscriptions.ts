import type { EventSubscriber, Logger } from '@ecom/shared';
import type { ProfileService } from '../domain/profile-service';

/** A new account gets its profile; a redelivered event finds it there and changes nothing. */
export function subscribeProfiles(
  subscriber: EventSubscriber,
  profiles: ProfileService,
  logger: Logger,
): void {
  subscriber.on('user_registered', async (event) => {
    const outcome = await profiles.createFromRegistration(event);
    logger.info({ userId: event.userId, eventId: event.eventId, outcome }, 'user_registered handled');
  });
}
