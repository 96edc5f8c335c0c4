import fs from 'node:fs';
import { DynamicModule, Logger, Module } from '@nestjs/common';
import { ServeStaticModule } from '@nestjs/serve-static';

/** Serves the dashboard's static export at /, leaving /api, /socket.io and /metrics to the API. */
@Module({})
export class DashboardModule {
  static register(dir: string): DynamicModule {
    if (!fs.existsSync(dir)) {
      new Logger(DashboardModule.name).warn(`no dashboard build at ${dir}: run \`npx nx build dashboard\`; serving the API only`);
      return { module: DashboardModule };
    }
    return {
      module: DashboardModule,
      imports: [
        ServeStaticModule.forRoot({
          rootPath: dir,
          exclude: ['/api/{*path}', '/socket.io/{*path}', '/metrics'],
          serveStaticOptions: { extensions: ['html'], fallthrough: true },
        }),
      ],
    };
  }
}
