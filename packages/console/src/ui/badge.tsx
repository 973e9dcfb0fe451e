import type { Tone } from "../model/format.ts";

/** A state in words, with a tone for colour (the words carry the meaning). */
export function Badge(props: { tone: Tone; label: string; testId?: string }) {
  return (
    <span class={`badge tone-${props.tone}`} data-testid={props.testId}>
      {props.label}
    </span>
  );
}
