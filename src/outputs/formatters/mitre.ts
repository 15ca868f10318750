// Rules store technique ids only (T1539, T1550.004, ...); SIEM formats also want names, tactics and links.
// The labels come from one pinned ATT&CK release so every format agrees and an ATT&CK renaming (v19 split
// Defense Evasion) is a deliberate table change, not drift.

/** ATT&CK release the names and tactic assignments below were taken from (also OCSF attacks[].version). */
export const ATTACK_VERSION = '16.1';

export interface Tactic {
  id: string;
  name: string;
  reference: string;
}

export const TACTICS: Readonly<Record<string, string>> = {
  TA0001: 'Initial Access',
  TA0003: 'Persistence',
  TA0004: 'Privilege Escalation',
  TA0005: 'Defense Evasion',
  TA0006: 'Credential Access',
  TA0007: 'Discovery',
  TA0008: 'Lateral Movement',
  TA0009: 'Collection',
  TA0011: 'Command and Control',
};

interface TechniqueEntry {
  name: string;
  tactics: readonly string[];
}

// Techniques a session-replay detector can plausibly cite (see shared/reference/session-hijack-detection.md).
const TECHNIQUES: Readonly<Record<string, TechniqueEntry>> = {
  T1078: { name: 'Valid Accounts', tactics: ['TA0005', 'TA0003', 'TA0004', 'TA0001'] },
  'T1078.004': { name: 'Cloud Accounts', tactics: ['TA0005', 'TA0003', 'TA0004', 'TA0001'] },
  T1090: { name: 'Proxy', tactics: ['TA0011'] },
  'T1090.003': { name: 'Multi-hop Proxy', tactics: ['TA0011'] },
  T1110: { name: 'Brute Force', tactics: ['TA0006'] },
  'T1110.003': { name: 'Password Spraying', tactics: ['TA0006'] },
  'T1110.004': { name: 'Credential Stuffing', tactics: ['TA0006'] },
  T1111: { name: 'Multi-Factor Authentication Interception', tactics: ['TA0006'] },
  T1185: { name: 'Browser Session Hijacking', tactics: ['TA0009'] },
  T1528: { name: 'Steal Application Access Token', tactics: ['TA0006'] },
  T1539: { name: 'Steal Web Session Cookie', tactics: ['TA0006'] },
  T1550: { name: 'Use Alternate Authentication Material', tactics: ['TA0005', 'TA0008'] },
  'T1550.001': { name: 'Application Access Token', tactics: ['TA0005', 'TA0008'] },
  'T1550.004': { name: 'Web Session Cookie', tactics: ['TA0005', 'TA0008'] },
  T1557: { name: 'Adversary-in-the-Middle', tactics: ['TA0006', 'TA0009'] },
  T1606: { name: 'Forge Web Credentials', tactics: ['TA0006'] },
  'T1606.001': { name: 'Web Cookies', tactics: ['TA0006'] },
  T1621: { name: 'Multi-Factor Authentication Request Generation', tactics: ['TA0006'] },
};

export interface TechniqueRef {
  id: string;
  name?: string;
  reference?: string;
}

/** One entry of Incident.mitre, expanded. A sub-technique carries its parent, as ECS and OCSF both want. */
export interface MitreRef {
  /** as given (trimmed; upper-cased when it has the ATT&CK shape) */
  raw: string;
  kind: 'technique' | 'subtechnique' | 'tactic' | 'unknown';
  /** for a sub-technique, the parent; otherwise the technique itself */
  technique?: TechniqueRef;
  subtechnique?: TechniqueRef;
  tactics: Tactic[];
}

const TECHNIQUE_ID = /^T\d{4}(?:\.\d{3})?$/;
const TACTIC_ID = /^TA\d{4}$/;

function techniqueUrl(id: string): string {
  return `https://attack.mitre.org/techniques/${id.replace('.', '/')}/`;
}

export function tacticRef(id: string): Tactic {
  return { id, name: TACTICS[id] ?? '', reference: `https://attack.mitre.org/tactics/${id}/` };
}

export function expandMitre(value: string): MitreRef {
  const trimmed = value.trim();
  const upper = trimmed.toUpperCase();
  if (TACTIC_ID.test(upper)) {
    return { raw: upper, kind: 'tactic', tactics: [tacticRef(upper)] };
  }
  if (!TECHNIQUE_ID.test(upper)) {
    // Kept as an opaque id: a rule author's typo is still worth showing, but we invent no link or name for it.
    return { raw: trimmed, kind: 'unknown', technique: { id: trimmed }, tactics: [] };
  }
  const entry = TECHNIQUES[upper];
  const tactics = (entry?.tactics ?? []).map(tacticRef);
  const self: TechniqueRef = { id: upper, reference: techniqueUrl(upper) };
  if (entry) self.name = entry.name;
  const dot = upper.indexOf('.');
  if (dot === -1) return { raw: upper, kind: 'technique', technique: self, tactics };
  const parentId = upper.slice(0, dot);
  const parentEntry = TECHNIQUES[parentId];
  const parent: TechniqueRef = { id: parentId, reference: techniqueUrl(parentId) };
  if (parentEntry) parent.name = parentEntry.name;
  return {
    raw: upper,
    kind: 'subtechnique',
    technique: parent,
    subtechnique: self,
    tactics: tactics.length > 0 ? tactics : (parentEntry?.tactics ?? []).map(tacticRef),
  };
}
