import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
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
  @ApiOperation({ summary: 'Create a device profile', description: 'A profile groups devices and holds the provisioning key devices present to get their own token. The key is shown once, in this response.' })
  @ApiCreatedResponse({ type: ProfileCreatedDto, description: 'The provisioning key is shown once.' })
  create(@Body() body: CreateProfileDto): Promise<ProfileCreatedResponse> {
    return this.profiles.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'List device profiles', description: 'Profiles with their device counts (never their keys).' })
  @ApiOkResponse({ type: [ProfileDto] })
  list(): Promise<ProfileView[]> {
    return this.profiles.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a device profile', description: 'One profile (never its key).' })
  @ApiOkResponse({ type: ProfileDto })
  @ApiNotFoundResponse()
  get(@Param('id') id: string): Promise<ProfileView> {
    return this.profiles.get(id);
  }

  @Post(':id/rotate-key')
  @ApiOperation({ summary: 'Rotate a provisioning key', description: 'A new provisioning key, shown once; the old one stops working (devices already provisioned keep their tokens).' })
  @ApiCreatedResponse({ type: ProfileCreatedDto, description: 'A new provisioning key, shown once; the old one stops working.' })
  rotateKey(@Param('id') id: string): Promise<ProfileCreatedResponse> {
    return this.profiles.rotateKey(id);
  }
}
