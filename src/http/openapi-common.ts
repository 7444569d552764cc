import * as z from 'zod';

/** Schema of every error response, for the OpenAPI document. */
export const ErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

const errorContent = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } });

/** The error responses shared by routes, to spread into `responses`. */
export const errorResponses = {
  400: errorContent('Invalid request'),
  404: errorContent('Not found'),
  409: errorContent('Conflict'),
  413: errorContent('Body over the size limit'),
  415: errorContent('Body is not application/json'),
} as const;

/** A JSON request body that must be present. */
export const jsonBody = <S extends z.ZodType>(schema: S) => ({ required: true, content: { 'application/json': { schema } } }) as const;

/** A JSON response. */
export const jsonResponse = <S extends z.ZodType>(description: string, schema: S) => ({ description, content: { 'application/json': { schema } } }) as const;
