import type * as Swagger from '@nestjs/swagger';

/**
 * The @nestjs/swagger decorators this app uses, deferred: at class definition they only note
 * where they were applied, and `applyOpenApiDecorators` applies the real ones when the OpenAPI
 * document is first asked for (api-docs.ts). @nestjs/swagger and what it pulls in (some 550
 * modules, 428 of them es-toolkit's) then stay unloaded in a process nobody asks for its docs:
 * about 12 MB of RSS and 0.3 s of start-up, measured by importing it on top of Nest and TypeORM. Import these instead of '@nestjs/swagger' (lint enforces it); the real decorators only
 * write metadata, so applying them later gives the same document.
 */
type SwaggerExports = typeof Swagger;
type DecoratorName =
  | 'ApiBadRequestResponse'
  | 'ApiBody'
  | 'ApiConsumes'
  | 'ApiCreatedResponse'
  | 'ApiNoContentResponse'
  | 'ApiNotFoundResponse'
  | 'ApiOkResponse'
  | 'ApiOperation'
  | 'ApiProduces'
  | 'ApiProperty'
  | 'ApiPropertyOptional'
  | 'ApiServiceUnavailableResponse'
  | 'ApiTags'
  | 'ApiTooManyRequestsResponse';

interface Application {
  readonly name: DecoratorName;
  /** What the decorator factory was called with. */
  readonly options: unknown[];
  /** What the decorator itself was called with: (class), (prototype, property) or (prototype, method, descriptor). */
  readonly site: unknown[];
}

type AnyDecorator = (...site: unknown[]) => unknown;

const applications: Application[] = [];

function deferred<N extends DecoratorName>(name: N): SwaggerExports[N] {
  const factory = (...options: unknown[]): AnyDecorator => (...site: unknown[]) => void applications.push({ name, options, site });
  return factory as unknown as SwaggerExports[N];
}

/** Applies the real decorators, in the order they were met, once per process. */
export function applyOpenApiDecorators(swagger: SwaggerExports): void {
  for (const { name, options, site } of applications.splice(0)) {
    const decorator = (swagger[name] as (...options: unknown[]) => AnyDecorator)(...options);
    decorator(...site);
  }
}

export const ApiBadRequestResponse = deferred('ApiBadRequestResponse');
export const ApiBody = deferred('ApiBody');
export const ApiConsumes = deferred('ApiConsumes');
export const ApiCreatedResponse = deferred('ApiCreatedResponse');
export const ApiNoContentResponse = deferred('ApiNoContentResponse');
export const ApiNotFoundResponse = deferred('ApiNotFoundResponse');
export const ApiOkResponse = deferred('ApiOkResponse');
export const ApiOperation = deferred('ApiOperation');
export const ApiProduces = deferred('ApiProduces');
export const ApiProperty = deferred('ApiProperty');
export const ApiPropertyOptional = deferred('ApiPropertyOptional');
export const ApiServiceUnavailableResponse = deferred('ApiServiceUnavailableResponse');
export const ApiTags = deferred('ApiTags');
export const ApiTooManyRequestsResponse = deferred('ApiTooManyRequestsResponse');
