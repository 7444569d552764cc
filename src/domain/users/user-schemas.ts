import * as z from 'zod';
import { PageQuery } from '../shared/page-cursor.js';

export const UserId = z.uuid().describe('User id (UUID)');

/** 1..200 characters once leading and trailing whitespace is trimmed. */
export const UserName = z.string().trim().min(1).max(200).describe('Display name, 1..200 characters (trimmed)');

/**
 * An email address (zod's practical RFC 5322 subset, at most 254 characters, the SMTP
 * limit). Stored as given; uniqueness is case-insensitive (`email_lower`).
 */
export const UserEmail = z.email().max(254).describe('Email address; unique, compared case-insensitively');

/** Body of `POST /users` (the multi-region recipe's `{"name", "email"}`). */
export const CreateUserRequest = z.strictObject({ name: UserName, email: UserEmail });
export type CreateUserRequest = z.infer<typeof CreateUserRequest>;

/** Body of `PATCH /users/{id}`: the fields to change, at least one. */
export const UpdateUserRequest = z
  .strictObject({ name: UserName.optional(), email: UserEmail.optional() })
  .refine((patch) => Object.keys(patch).length > 0, 'give at least one field to change: name, email');
export type UpdateUserRequest = z.infer<typeof UpdateUserRequest>;

export const UserView = z.object({
  id: UserId,
  name: z.string(),
  email: z.string(),
  created_at: z.string().describe('ISO-8601 UTC'),
  updated_at: z.string().describe('ISO-8601 UTC'),
  version: z.number().int().describe('1 at creation, +1 per change; also the ETag'),
});
export type User = z.infer<typeof UserView>;

/** `GET /users`: newest first (`created_at`, then `id`, descending). */
export const ListUsersQuery = z.strictObject(PageQuery);
export type ListUsersQuery = z.infer<typeof ListUsersQuery>;

export const UserList = z.object({ items: z.array(UserView), cursor: z.string().optional().describe('Present when more users follow') });
