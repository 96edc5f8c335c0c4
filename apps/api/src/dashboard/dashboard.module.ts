import fs from 'node:fs';
import path from 'node:path';
import { DynamicModule, Inject, Injectable, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ServeStaticModule } from '@nestjs/serve-static';
import type { Application, NextFunction, Request, Response } from 'express';

/**
 * Whether a request path (no query string) is the API's (REST, socket.io, Prometheus' /metrics): their 404s are
 * the API's JSON ones, not the dashboard's page.
 */
export function isApiPath(pathname: string): boolean {
  // Express routes case-insensitively: /API/health is the API's, and so is an unknown /API/x.
  const p = pathname.toLowerCase();
  return p === '/api' || p.startsWith('/api/') || p.startsWith('/socket.io/') || p === '/metrics';
}

const DASHBOARD_DIR = Symbol('DASHBOARD_DIR');

/**
 * Answers what the export has no file for with its 404 page and a 404 status. Without it, every unknown path
 * (`/nonexistent`, `/favicon.ico`, `/metrics/`) answered 200 with the overview: a typo looked like a page, and
 * a monitor probing a URL could not tell. Registered after the static files (module init runs imported modules
 * first, and ServeStaticModule registers in its own), which are after the API's routes.
 */
@Injectable()
export class DashboardNotFound implements OnModuleInit {
  constructor(
    private readonly host: HttpAdapterHost,
    @Inject(DASHBOARD_DIR) private readonly dir: string,
  ) {}

  onModuleInit(): void {
    const page = path.join(this.dir, '404.html');
    const app = this.host.httpAdapter.getInstance<Application>();
    app.use((req: Request, res: Response, next: NextFunction) => {
      if ((req.method !== 'GET' && req.method !== 'HEAD') || isApiPath(req.path)) return next();
      res.status(404);
      if (!fs.existsSync(page)) return void res.type('text/plain').send(`Not found: ${req.path}`);
      res.sendFile(page, (err) => {
        if (err && !res.headersSent) res.type('text/plain').send(`Not found: ${req.path}`);
      });
    });
  }
}

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
          // The API's routes are matched before these files, and DashboardNotFound leaves the API's unknown paths
          // to its JSON 404 (isApiPath): no exclusion list to keep in step. The export has a file for every page
          // (trailingSlash: x/index.html, and express.static redirects /x to /x/ with its query string), so only /
          // itself renders the index: any other path without a file is unknown.
          renderPath: '/',
          serveStaticOptions: { extensions: ['html'], fallthrough: true },
        }),
      ],
      providers: [{ provide: DASHBOARD_DIR, useValue: path.resolve(dir) }, DashboardNotFound],
    };
  }
}
