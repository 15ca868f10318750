// One evaluator per rule type, looked up by type: adding a rule type is adding a file and a line here.
import type { Check } from '../schema.js';
import type { RuleContext, RuleOutcome } from '../types.js';
import { evaluateClientChange } from './client-change.js';
import { evaluateConcurrentUse } from './concurrent-use.js';
import { evaluateDistinctCount } from './distinct-count.js';
import { evaluateImpossibleTravel } from './impossible-travel.js';
import { evaluateNetworkClass } from './network-class.js';
import { evaluateUseAfterEnd } from './use-after-end.js';

type Evaluators = { [T in Check['type']]: (params: Extract<Check, { type: T }>, ctx: RuleContext) => RuleOutcome };

const EVALUATORS: Evaluators = {
  distinct_count: evaluateDistinctCount,
  use_after_end: evaluateUseAfterEnd,
  impossible_travel: evaluateImpossibleTravel,
  concurrent_use: evaluateConcurrentUse,
  client_change: evaluateClientChange,
  network_class: evaluateNetworkClass,
};

export function compileCheck(check: Check): (ctx: RuleContext) => RuleOutcome {
  const fn = EVALUATORS[check.type] as (params: Check, ctx: RuleContext) => RuleOutcome;
  return (ctx) => fn(check, ctx);
}
