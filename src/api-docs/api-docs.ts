import type { INestApplication } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { applyOpenApiDecorators } from './openapi-decorators.js';

/** /api/docs (the UI and its assets), /api/docs-json and /api/docs-yaml. */
const DOCS_PATH = /^\/api\/docs(?:-json|-yaml)?(?:\/|$)/;

/**
 * The OpenAPI document at /api/docs-json and its UI at /api/docs, served from local assets.
 * Nothing of it is loaded at boot: the first request for it loads @nestjs/swagger, applies the
 * deferred decorators (openapi-decorators.ts), sets SwaggerModule's routes up on a router of
 * their own and builds the document; later requests go straight to that router. Requests for
 * other paths pass with one regular-expression test.
 */
export function serveApiDocsOnDemand(app: NestExpressApplication): void {
  let docs: Promise<RequestHandler> | undefined;
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (!DOCS_PATH.test(req.path)) return next();
    (docs ??= loadApiDocs(app)).then(
      (handle) => handle(req, res, next),
      (error: unknown) => {
        docs = undefined; // try again on the next request
        next(error);
      },
    );
  });
}

async function loadApiDocs(app: NestExpressApplication): Promise<RequestHandler> {
  const swagger = await import('@nestjs/swagger');
  applyOpenApiDecorators(swagger);
  const { DocumentBuilder, SwaggerModule } = swagger;
  // SwaggerModule registers its routes on an application's HTTP adapter; here, an adapter of its
  // own, whose router this handler runs (the app's own router has been set up by now).
  const adapter = new ExpressAdapter();
  const host = { getHttpAdapter: () => adapter, useStaticAssets: (path: string, options: { prefix: string }): void => void adapter.useStaticAssets(path, options) };
  const document = () =>
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Nest Chat App')
        .setDescription(
          'Streaming LLM chat backend. The seed routes (/chat/) keep the pydantic-ai chat app contract; ' +
            '/api/conversations is the REST API; /api/chat speaks the Vercel AI SDK UI message stream. ' +
            'Errors are JSON: {statusCode, error, message}.',
        )
        .setVersion('1.0')
        .build(),
    );
  SwaggerModule.setup('api/docs', host as unknown as INestApplication, document, { jsonDocumentUrl: 'api/docs-json', customSiteTitle: 'Nest Chat App API' });
  return (adapter.getInstance<{ router: RequestHandler }>()).router;
}
