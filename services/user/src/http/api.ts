import { defineApi } from '@ecom/shared';
import { listQuery, patchProfileBody, userIdParam } from './schemas';

/** The user service's public API: routed by routes.ts and documented at /openapi.json from these declarations. */
export const userApi = defineApi({
  service: 'user',
  title: 'ecom-micro user',
  description:
    'Customer profiles (name, email, phone, addresses), created from auth registrations and cached in Redis.',
  operations: {
    getMe: {
      method: 'get',
      path: '/users/me',
      summary: "The caller's profile.",
      description:
        'A profile appears shortly after registration (it is built from the user_registered event).',
      access: 'user',
      input: {},
      success: { status: 200, description: 'The profile.' },
      errors: [404],
    },
    updateMe: {
      method: 'patch',
      path: '/users/me',
      summary:
        "Change the caller's name, phone (null removes it) or addresses (the list replaces the old one).",
      access: 'user',
      input: { body: patchProfileBody },
      success: { status: 200, description: 'The profile as changed.' },
      errors: [404],
    },
    listUsers: {
      method: 'get',
      path: '/users',
      summary: 'Every profile, by user id, a page at a time (admin).',
      access: 'admin',
      input: { query: listQuery },
      success: { status: 200, description: '`{items, nextCursor}`.' },
    },
    getUser: {
      method: 'get',
      path: '/users/:id',
      summary: "A profile: the caller's own, or anyone's for an admin.",
      description: "Another user's profile answers 404, exactly like a missing one.",
      access: 'user',
      input: { params: userIdParam },
      success: { status: 200, description: 'The profile.' },
      errors: [404],
    },
  },
});
