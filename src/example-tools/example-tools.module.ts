import { Module } from '@nestjs/common';
import { UnitConverterTool } from './unit-converter.tool.js';

/** Where the example provider tool is registered: any module of the app would do. */
@Module({ providers: [UnitConverterTool] })
export class ExampleToolsModule {}
