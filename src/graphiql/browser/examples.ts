/**
 * The example operations GraphiQL opens with, one tab each: the examples of docs/clients.md, named so that the tabs
 * and the upstream-cost line can say which is which. GraphiQL uses them only while the browser has no saved tabs.
 */

/**
 * The request headers every example tab starts with. Headers are JSONC, so the bearer token is a commented
 * line to fill in: sent as it is, a placeholder would be refused where callers are authenticated.
 */
export const HEADERS_PLACEHOLDER = `{
  // With AUTH_MODE=jwt, an Entra ID access token:
  // "Authorization": "Bearer <token>"
}`;

const ALERT_QUEUE = `# An alert queue: the newest high-severity alerts, each with its
# device and its user, and who logs on to a few of the user's devices.
# \`first\` on a relationship bounds its fan-out: at most 3 devices per
# user, so at most 3 logon-user calls per user (about 33 Defender calls
# on the simulator's tenant; run again while the answers are cached,
# none). The pane under the result shows the estimate before Run, and
# what the run cost after Run (Ctrl-Enter).
query AlertQueue {
  alerts(first: 10, filter: { status: [NEW, IN_PROGRESS], severity: [HIGH] }) {
    nodes {
      id
      title
      severity
      alertCreationTime
      machine {
        computerDnsName
        healthStatus
        riskScore
      }
      user {
        id
        machines(first: 3) {
          computerDnsName
          logonUsers(first: 5) {
            id
            logonTypes
          }
        }
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
`;

const MACHINE = `# A device and its alerts, by id or computer name (take one from the alert queue's results).
query Machine {
  machine(id: "laptop-aglrvfh.ad.woodgrove.com") {
    id
    osPlatform
    lastSeen
    alerts {
      id
      title
      status
    }
    logonUsers {
      id
      isDomainAdmin
    }
  }
}
`;

const USER = `# An account, as domain\\name, a bare account name or a UPN (of which the part before @ is used).
query User {
  user(id: "europe\\\\adm-isaiah.thomas") {
    accountName
    machines {
      computerDnsName
    }
    alerts {
      id
      title
    }
  }
}
`;

const RATE_LIMIT = `# What the upstream budget looks like right now, per Defender API and window.
query RateLimit {
  rateLimit {
    api
    limit
    remaining
    windowSeconds
    resetAt
  }
}
`;

const ALERT_WALK = `# The whole walk in a handful of calls: each alert's user, every device
# that user logs on to, and who else logs on to each of them. By REST
# this is one call per user and one per device (hundreds); advanced
# hunting answers each level for all of them at once (one query per
# level over DeviceLogonEvents, which also names the devices). Every
# field asked is one hunting gives (firstSeen or
# mostPrevalentMachineId would need REST: see TooExpensive). After Run,
# the pane lists the calls per API (hunting among them) and which source
# served each level (its plan). DEFENDER_PLANS=rest switches hunting off.
query AlertWalk {
  alerts(first: 20) {
    nodes {
      id
      title
      user {
        accountName
        machines {
          computerDnsName
          logonUsers {
            accountName
          }
        }
      }
    }
  }
}
`;

const TOO_EXPENSIVE = `# Meant to be refused: what the gateway does with an operation it
# cannot afford. AlertWalk's walk, asking each logon user's firstSeen,
# which only Defender's per-device REST route gives (advanced hunting
# does not), so that level cannot be served by hunting: one call per
# device of each alert's user, thousands of Defender calls, more than one
# operation may spend (MAX_OPERATION_CALLS, 100). The gateway refuses it
# before any call (QUERY_TOO_EXPENSIVE, 0 calls), and the pane names its
# costliest path, alerts.nodes.user.machines.logonUsers. Bound it as
# AlertQueue does (machines(first: 3)), or drop firstSeen (AlertWalk).
query TooExpensive {
  alerts(first: 20, filter: { status: [NEW, IN_PROGRESS] }) {
    nodes {
      id
      user {
        id
        machines {
          computerDnsName
          logonUsers {
            id
            firstSeen
          }
        }
      }
    }
  }
}
`;

/** The tabs GraphiQL opens with, in this order: the examples that answer, then the one meant to be refused. */
export const EXAMPLE_TABS: readonly { query: string; headers: string }[] = [
  ALERT_QUEUE,
  MACHINE,
  USER,
  RATE_LIMIT,
  ALERT_WALK,
  TOO_EXPENSIVE,
].map((query) => ({ query, headers: HEADERS_PLACEHOLDER }));

const TRIAGE = `# Triage: take an alert, move it to in progress and say why (PATCH /api/alerts/{id}). The comment is
# signed with your identity; with AUTH_MODE=jwt you need the AUTH_WRITE_ROLE role or scope.
mutation Triage {
  updateAlert(
    id: "da639213482029986318_-957797420"
    input: { status: IN_PROGRESS, assignedTo: "analyst@contoso.com", comment: "Looking into the new local admin" }
  ) {
    id
    title
    status
    assignedTo
    comments {
      comment
      createdBy
      createdTime
    }
    machine {
      computerDnsName
    }
  }
}
`;

/** The triage example, a tab after the queries (`main.ts` opens it after them, before the live alerts). */
export const TRIAGE_TAB: { query: string; headers: string } = { query: TRIAGE, headers: HEADERS_PLACEHOLDER };

/**
 * The live alert queue: a subscription, which the page runs over WebSocket. Kept apart from {@link EXAMPLE_TABS}
 * (the page adds it last).
 */
export const LIVE_ALERTS_TAB: { query: string; headers: string } = {
  query: `# Live alerts: every alert created or updated from now on that passes the filter, as it happens.
# Run it, then wait: the gateway polls Defender once per ALERT_POLL_SECONDS for every subscriber at once
# (with the embedded simulator, SIMULATOR_ALERT_CHANGES_PER_MINUTE=6 npm start makes alerts change).
subscription LiveAlerts {
  alertChanges(filter: { severity: [HIGH, MEDIUM] }) {
    kind
    alert {
      id
      title
      severity
      status
      lastUpdateTime
      machine {
        computerDnsName
      }
    }
  }
}
`,
  headers: HEADERS_PLACEHOLDER,
};
