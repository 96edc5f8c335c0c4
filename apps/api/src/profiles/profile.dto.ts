import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import type { CreateProfileRequest, ProfileCreatedResponse, ProfileView } from '@ddnn/contracts';

export class CreateProfileDto implements CreateProfileRequest {
  @ApiProperty({ example: 'cameras', description: 'Unique profile name.' })
  @IsString()
  @Length(1, 100)
  @Matches(/^[\w.-]+$/, { message: 'name may contain letters, digits, _ . - only' })
  name!: string;

  @ApiPropertyOptional({ example: 'The six cameras of the paper setup' })
  @IsOptional()
  @IsString()
  @Length(0, 500)
  description?: string;
}

export class ProfileDto implements ProfileView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty() createdAt!: string;
}

export class ProfileCreatedDto extends ProfileDto implements ProfileCreatedResponse {
  @ApiProperty({ description: 'Shown once; devices present it to POST /api/devices/provision.' })
  provisioningKey!: string;
}
