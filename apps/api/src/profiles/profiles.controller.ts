import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { ProfileCreatedResponse, ProfileView } from '@ddnn/contracts';
import { RequireAccess } from '../auth/access.decorator';
import { CreateProfileDto, ProfileCreatedDto, ProfileDto } from './profile.dto';
import { ProfilesService } from './profiles.service';

@ApiTags('profiles')
@RequireAccess('operator')
@Controller('profiles')
export class ProfilesController {
  constructor(private readonly profiles: ProfilesService) {}

  @Post()
  @ApiCreatedResponse({ type: ProfileCreatedDto, description: 'The provisioning key is shown once.' })
  create(@Body() body: CreateProfileDto): Promise<ProfileCreatedResponse> {
    return this.profiles.create(body);
  }

  @Get()
  @ApiOkResponse({ type: [ProfileDto] })
  list(): Promise<ProfileView[]> {
    return this.profiles.list();
  }

  @Get(':id')
  @ApiOkResponse({ type: ProfileDto })
  @ApiNotFoundResponse()
  get(@Param('id') id: string): Promise<ProfileView> {
    return this.profiles.get(id);
  }

  @Post(':id/rotate-key')
  @ApiCreatedResponse({ type: ProfileCreatedDto, description: 'A new provisioning key, shown once; the old one stops working.' })
  rotateKey(@Param('id') id: string): Promise<ProfileCreatedResponse> {
    return this.profiles.rotateKey(id);
  }
}
