import { Injectable } from '@nestjs/common';
import { AgentTool } from '../agent-tool.decorator.js';

/** The server's clock, for questions about today, now or how long ago (AGENT_TOOLS=current_time). */
@Injectable()
export class CurrentTimeTool {
  @AgentTool({
    name: 'current_time',
    description: "The current date and time on the server, with its time zone. Use it for any question about today, now, or dates relative to them.",
    optIn: true,
  })
  now(): { iso: string; date: string; time: string; timeZone: string; utcOffset: string } {
    const now = new Date();
    const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const offsetMinutes = -now.getTimezoneOffset();
    const sign = offsetMinutes >= 0 ? '+' : '-';
    const pad = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, '0');
    return {
      iso: now.toISOString(),
      date: now.toLocaleDateString('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone }),
      time: now.toLocaleTimeString('en-GB', { hour12: false, timeZone }),
      timeZone,
      utcOffset: `${sign}${pad(offsetMinutes / 60)}:${pad(offsetMinutes % 60)}`,
    };
  }
}
