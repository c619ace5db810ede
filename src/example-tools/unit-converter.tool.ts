import { Injectable } from '@nestjs/common';
import { IsIn, IsNumber } from 'class-validator';
import { AgentTool } from '../tools/agent-tool.decorator.js';
import { ToolError } from '../tools/tool-source.js';

/** Factors to a base unit per quantity; temperatures are converted by formula. */
const LINEAR: Readonly<Record<string, { quantity: string; toBase: number }>> = {
  m: { quantity: 'length', toBase: 1 },
  km: { quantity: 'length', toBase: 1000 },
  mi: { quantity: 'length', toBase: 1609.344 },
  ft: { quantity: 'length', toBase: 0.3048 },
  in: { quantity: 'length', toBase: 0.0254 },
  kg: { quantity: 'mass', toBase: 1 },
  g: { quantity: 'mass', toBase: 0.001 },
  lb: { quantity: 'mass', toBase: 0.45359237 },
  oz: { quantity: 'mass', toBase: 0.028349523125 },
  l: { quantity: 'volume', toBase: 1 },
  ml: { quantity: 'volume', toBase: 0.001 },
  gal: { quantity: 'volume', toBase: 3.785411784 },
};
const TEMPERATURES = ['C', 'F', 'K'] as const;
const UNITS = [...Object.keys(LINEAR), ...TEMPERATURES];

/** The arguments, as a class-validator DTO: its decorators are the JSON Schema the model is offered, and the check its arguments pass. */
export class ConvertUnitsArguments {
  @IsNumber({ allowNaN: false, allowInfinity: false })
  value!: number;

  @IsIn(UNITS)
  from!: string;

  @IsIn(UNITS)
  to!: string;
}

/**
 * The example of a tool written as a NestJS provider (README, "Tools"): an `@Injectable()` with
 * an `@AgentTool` method, registered in a module of the app. `optIn` keeps it off unless
 * AGENT_TOOLS names it (`AGENT_TOOLS=convert_units`); a tool of your own would leave that out.
 */
@Injectable()
export class UnitConverterTool {
  @AgentTool({
    name: 'convert_units',
    description: `Converts a value between units of length, mass, volume or temperature. Units: ${UNITS.join(', ')}.`,
    parameters: ConvertUnitsArguments,
    optIn: true,
  })
  convert({ value, from, to }: ConvertUnitsArguments): { value: number; unit: string } {
    return { value: Number(convert(value, from, to).toPrecision(10)), unit: to };
  }
}

function convert(value: number, from: string, to: string): number {
  const isTemperature = (unit: string) => (TEMPERATURES as readonly string[]).includes(unit);
  if (isTemperature(from) && isTemperature(to)) {
    const kelvin = from === 'C' ? value + 273.15 : from === 'F' ? ((value - 32) * 5) / 9 + 273.15 : value;
    return to === 'C' ? kelvin - 273.15 : to === 'F' ? ((kelvin - 273.15) * 9) / 5 + 32 : kelvin;
  }
  const a = LINEAR[from];
  const b = LINEAR[to];
  // A ToolError's message is what the model reads, so it can correct itself.
  if (!a || !b || a.quantity !== b.quantity) throw new ToolError(`Cannot convert ${from} to ${to}: they measure different things.`);
  return (value * a.toBase) / b.toBase;
}
