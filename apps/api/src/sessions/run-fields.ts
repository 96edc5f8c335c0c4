import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

/** What a run (session or stream) may be called, tagged and annotated with: one rule for create, edit and filters. */
export const RUN_TAG = /^[\w.:-]{1,40}$/;
export const RUN_TAG_MESSAGE = 'each tag is 1-40 letters, digits or . _ : -';

export function RunName(description = 'Run name'): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ description, example: 'baseline T=0.8' }), IsOptional(), IsString(), MaxLength(120));
}

export function RunTags(description = 'Run tags (letters, digits, . _ : -)'): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: [String], description, example: ['baseline'] }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(20),
    IsString({ each: true }),
    Matches(RUN_TAG, { each: true, message: RUN_TAG_MESSAGE }),
  );
}

export function RunNote(): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ description: 'Free-text note' }), IsOptional(), IsString(), MaxLength(4000));
}
