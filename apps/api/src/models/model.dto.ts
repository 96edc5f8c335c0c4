import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import type { ModelSectionInfo, ModelView, RegisterModelRequest } from '@ddnn/contracts';

export class RegisterModelDto implements RegisterModelRequest {
  @ApiProperty({ example: 'models/default', description: 'Server-side checkpoint directory (local use).' })
  @IsString()
  @Length(1, 1000)
  path!: string;

  @ApiPropertyOptional({ example: 'paper-6cam' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9][\w.-]{0,99}$/, { message: 'id may contain letters, digits, _ . - only' })
  id?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;
}

class SectionDto implements ModelSectionInfo {
  @ApiProperty() name!: string;
  @ApiProperty() file!: string;
  @ApiProperty() bytes!: number;
}

export class ModelDto implements ModelView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() version!: string;
  @ApiProperty() path!: string;
  @ApiProperty({ type: [SectionDto] }) sections!: SectionDto[];
  @ApiProperty() createdAt!: string;
}
