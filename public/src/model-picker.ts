// The model picker in the header: the models GET /api/models offers, showing the open
// conversation's (or, before a new chat's first prompt, the one it will get).
import type { ModelsJson } from './api.js';

export class ModelPicker {
  private choices: ModelsJson | null = null;

  /** `choose` gets the model picked: null for the server's default. */
  constructor(
    private readonly select: HTMLSelectElement,
    choose: (model: string | null) => void,
  ) {
    select.addEventListener('change', () => choose(this.selected()));
  }

  setChoices(choices: ModelsJson): void {
    this.choices = choices;
    this.select.replaceChildren(
      ...choices.models.map((model) => {
        const option = document.createElement('option');
        option.value = model;
        option.textContent = model === choices.default ? `${model} (default)` : model;
        return option;
      }),
    );
    this.select.disabled = choices.models.length < 2;
  }

  /** Shows a conversation's model (null: the default); one no longer offered is shown as it is. */
  show(model: string | null): void {
    const value = model ?? this.choices?.default ?? '';
    if (value && ![...this.select.options].some((option) => option.value === value)) {
      const option = document.createElement('option');
      option.value = value;
      option.textContent = value;
      this.select.append(option);
    }
    this.select.value = value;
  }

  /** What is picked, with the default as null, so a conversation on it follows the server's setting. */
  selected(): string | null {
    return this.select.value === this.choices?.default ? null : this.select.value || null;
  }
}
