import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsObject, IsOptional, IsString, Length } from 'class-validator';
import { z } from 'zod';
import type { CompareRequest, CompareRequestOptions, LinkModel, PolicySpec, SampleWindow } from '@ddnn/contracts';
import { compareRequestSchema } from '@ddnn/policies';

/**
 * The policy and link-model JSON forms are defined once, as zod schemas in @ddnn/policies, which also check
 * their rules (a discriminated union, budget goals); their OpenAPI schema is generated from those.
 */
const compareJsonSchema = z.toJSONSchema(compareRequestSchema, { target: 'openapi-3.0', unrepresentable: 'any' }) as unknown as {
  // ApiProperty's option types do not accept every JSON-schema shape; the generated objects are OpenAPI 3.0.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  properties: { policies: { items: any }; linkModel: { properties: any } };
};

/** POST /api/analysis/compare */
export class CompareRequestDto implements CompareRequest, CompareRequestOptions {
  @ApiProperty({ type: [String], minItems: 1, maxItems: 50, description: 'Sessions to evaluate the policies on.' })
  @IsArray()
  @ArrayMinSize(1, { message: 'sessionIds: name at least one session' })
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Length(1, 200, { each: true })
  sessionIds!: string[];

  @ApiProperty({ type: 'array', items: compareJsonSchema.properties.policies.items, minItems: 1, maxItems: 200, description: 'Exit policies (JSON form).' })
  @IsArray()
  @ArrayMinSize(1, { message: 'policies: name at least one policy' })
  @ArrayMaxSize(200)
  @IsObject({ each: true })
  policies!: PolicySpec[];

  @ApiPropertyOptional({ type: 'object', properties: compareJsonSchema.properties.linkModel.properties, description: 'Link latency and bandwidth for the latency estimate.' })
  @IsOptional()
  @IsObject()
  linkModel?: LinkModel;

  @ApiPropertyOptional({ description: 'The session unfitted budget policies are fitted on (default: each evaluated session, in-sample).' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  fitSessionId?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'object', properties: { fromSample: { type: 'integer', minimum: 0 }, toSample: { type: 'integer', minimum: 0 } } },
    description: 'Per run id, the samples (indices, inclusive) to evaluate on: required for a stream (it has no end), optional for a session.',
    example: { '0193a5a0-0000-7000-8000-000000000000': { fromSample: 1200, toSample: 1799 } },
  })
  @IsOptional()
  @IsObject()
  windows?: Record<string, SampleWindow>;
}
