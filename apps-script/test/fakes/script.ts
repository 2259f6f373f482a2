/** ScriptApp: the trigger builders the script uses, plus getProjectTriggers/deleteTrigger. */

export const AuthMode = {
  NONE: "NONE",
  CUSTOM_FUNCTION: "CUSTOM_FUNCTION",
  LIMITED: "LIMITED",
  FULL: "FULL",
} as const;
export const EventType = {
  CLOCK: "CLOCK",
  ON_OPEN: "ON_OPEN",
  ON_EDIT: "ON_EDIT",
  ON_FORM_SUBMIT: "ON_FORM_SUBMIT",
  ON_CHANGE: "ON_CHANGE",
} as const;
export const TriggerSource = { SPREADSHEETS: "SPREADSHEETS", CLOCK: "CLOCK" } as const;

export class FakeTrigger {
  constructor(
    private readonly handler: string,
    private readonly eventType: string,
    private readonly source: string,
    private readonly uniqueId: string,
    /** Minutes between runs for clock triggers. */
    readonly everyMinutes?: number,
  ) {}
  getHandlerFunction(): string {
    return this.handler;
  }
  getEventType(): string {
    return this.eventType;
  }
  getTriggerSource(): string {
    return this.source;
  }
  getUniqueId(): string {
    return this.uniqueId;
  }
}

export class FakeScriptApp {
  readonly AuthMode = AuthMode;
  readonly EventType = EventType;
  readonly TriggerSource = TriggerSource;
  private readonly triggers: FakeTrigger[] = [];
  private nextId = 1;

  getProjectTriggers(): FakeTrigger[] {
    return [...this.triggers];
  }

  deleteTrigger(trigger: FakeTrigger): void {
    const index = this.triggers.findIndex((t) => t.getUniqueId() === trigger.getUniqueId());
    if (index >= 0) this.triggers.splice(index, 1);
  }

  newTrigger(handler: string) {
    const add = (eventType: string, source: string, everyMinutes?: number): FakeTrigger => {
      const trigger = new FakeTrigger(
        handler,
        eventType,
        source,
        String(this.nextId++),
        everyMinutes,
      );
      this.triggers.push(trigger);
      return trigger;
    };
    return {
      forSpreadsheet: (_spreadsheet: unknown) => {
        let eventType: string | null = null;
        const builder = {
          onEdit: () => ((eventType = EventType.ON_EDIT), builder),
          onChange: () => ((eventType = EventType.ON_CHANGE), builder),
          onOpen: () => ((eventType = EventType.ON_OPEN), builder),
          onFormSubmit: () => ((eventType = EventType.ON_FORM_SUBMIT), builder),
          create: () => {
            if (eventType === null) throw new Error("Trigger has no event type");
            return add(eventType, TriggerSource.SPREADSHEETS);
          },
        };
        return builder;
      },
      timeBased: () => {
        let minutes: number | null = null;
        const builder = {
          everyMinutes: (n: number) => {
            // The only intervals Apps Script accepts.
            if (![1, 5, 10, 15, 30].includes(n)) {
              throw new Error("The value for minutes must be one of 1, 5, 10, 15 or 30.");
            }
            minutes = n;
            return builder;
          },
          everyHours: (n: number) => ((minutes = n * 60), builder),
          create: () => {
            if (minutes === null) throw new Error("Clock trigger has no schedule");
            return add(EventType.CLOCK, TriggerSource.CLOCK, minutes);
          },
        };
        return builder;
      },
    };
  }
}
