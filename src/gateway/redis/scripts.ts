/**
 * The Lua scripts of the shared mode. Each runs atomically in Redis, so a lease is checked and the
 * state written under it in one step: an instance that lost its lease (paused, partitioned) can no
 * longer write or publish (fencing). ioredis runs them by EVALSHA and falls back to EVAL when a
 * restarted Redis has forgotten them.
 *
 * A room has two keys: its lease (the owner's instance id, with a TTL) and its state (a hash: `seq`,
 * `fp` the observation's fingerprint, and `snapshot` the encoded snapshot message). Messages on the
 * room's channel are envelopes `<kind>\n<instance id>\n<payload>`: `m` an owner's message, `r` the
 * owner released the room, `h` a readiness hint for the owner.
 */

/**
 * Acquire, renew or check the leases of many rooms in one call (a claim round sends its rooms in
 * batches: one round trip and one script run for up to a hundred rooms). For each room: if the lease
 * is free or ours, take or extend it; then if our view is ahead of the stored state (Redis lost it, or
 * our last write failed), store ours and publish it as a snapshot so the followers resync. Answers,
 * room by room, {owned, stored snapshot or nil, lease left}: the stored snapshot unless the stored
 * state is ours (same sequence number and same observation) or there is none; and for a room another
 * instance holds, the milliseconds its lease has left (PTTL), so the follower claims again the moment
 * it lapses instead of at its next round (-1 when the room is ours).
 *
 * The observation's fingerprint matters as well as the sequence number: instances that watched a room
 * alone while Redis was gone numbered their changes independently, and one number may then stand for
 * two different states.
 *
 * A follower stores its view only where nothing is stored (Redis lost it): an owner that knows less
 * (it joined since) then adopts it at its next claim instead of numbering its changes from zero. A
 * view's snapshot is sent only when it may be stored (joining, resyncing, after a reconnection or a
 * failed write); routine claims send '' and store nothing.
 *
 * A room that has ended is remembered for a lease TTL (a tombstone: its `ended` message, stored with
 * the tombstone's fingerprint): the claim then answers {0, ended message} and takes nothing, so an
 * instance that has not heard of the end yet concludes the room instead of starting to watch it again.
 *
 * KEYS: per room, its lease then its state. ARGV: instance id, lease TTL ms, state TTL ms, the
 * tombstone's fingerprint, the envelope our messages start with (`envelope(MESSAGE, id)`), then per room: our seq, our fingerprint, our snapshot ('' if none or not
 * sent), the room's channel.
 */
export const CLAIM_LUA = `
local me, leaseTtl, stateTtl, endedFp, head = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local function claim(lease, state, ourSeq, ourFp, snapshot, channel)
  local stored = redis.call('HMGET', state, 'seq', 'fp')
  if stored[2] == endedFp then return {0, redis.call('HGET', state, 'snapshot')} end
  local owner = redis.call('GET', lease)
  local seq = stored[1]
  local flag = 0
  if owner == false or owner == me then
    flag = 1
    redis.call('SET', lease, me, 'PX', leaseTtl)
    if snapshot ~= '' and (seq == false or tonumber(seq) < tonumber(ourSeq)) then
      redis.call('HSET', state, 'seq', ourSeq, 'fp', ourFp, 'snapshot', snapshot)
      redis.call('PEXPIRE', state, stateTtl)
      redis.call('PUBLISH', channel, head .. snapshot)
      return {1}
    end
    if seq ~= false then redis.call('PEXPIRE', state, stateTtl) end
  elseif seq == false and snapshot ~= '' then
    redis.call('HSET', state, 'seq', ourSeq, 'fp', ourFp, 'snapshot', snapshot)
    redis.call('PEXPIRE', state, stateTtl)
  end
  local left = -1
  if flag == 0 then left = redis.call('PTTL', lease) end
  if seq == false or (tonumber(seq) == tonumber(ourSeq) and stored[2] == ourFp) then return {flag, false, left} end
  return {flag, redis.call('HGET', state, 'snapshot'), left}
end
local replies = {}
for i = 1, #KEYS / 2 do
  local a = 5 + (i - 1) * 4
  replies[i] = claim(KEYS[2 * i - 1], KEYS[2 * i], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4])
end
return replies
`;

/**
 * The owner's change: only while the lease is ours, store the room's new state (mode `set`), or end
 * the room (mode `end`: drop the lease, and leave the `ended` message as a tombstone for a lease TTL),
 * or store nothing (mode `none`: a transient failure), extend the lease, and publish the message.
 * Answers 1, or 0 when the lease is not ours.
 *
 * ARGV: instance id, lease TTL ms, state TTL ms, channel, envelope, mode, seq, fingerprint, snapshot.
 */
export const PUBLISH_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[6] == 'end' then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'seq', ARGV[7], 'fp', ARGV[8], 'snapshot', ARGV[9])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  if ARGV[6] == 'set' then
    redis.call('HSET', KEYS[2], 'seq', ARGV[7], 'fp', ARGV[8], 'snapshot', ARGV[9])
    redis.call('PEXPIRE', KEYS[2], ARGV[3])
  end
end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`;

/**
 * The owner lets go (no subscriber left here, or shutting down): delete the lease if it is ours, keep
 * the state for a lease TTL (whoever takes over continues from it), and tell the followers, who claim
 * at once. Answers 1, or 0 when the lease was not ours.
 *
 * ARGV: instance id, channel, envelope, handoff TTL ms.
 */
export const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`;

/** The fingerprint a tombstone (an ended room's state) is stored with: no observation has it. */
export const ENDED_FINGERPRINT = "#ended";

/** Envelope kinds on a room's channel. */
export const EnvelopeKind = {
  MESSAGE: "m",
  RELEASED: "r",
  HINT: "h",
} as const;
export type EnvelopeKind = (typeof EnvelopeKind)[keyof typeof EnvelopeKind];

export function envelope(kind: EnvelopeKind, instanceId: string, payload = ""): string {
  return `${kind}\n${instanceId}\n${payload}`;
}

/** Splits an envelope; undefined for anything else. */
export function openEnvelope(text: string): { kind: EnvelopeKind; from: string; payload: string } | undefined {
  const first = text.indexOf("\n");
  const second = first < 0 ? -1 : text.indexOf("\n", first + 1);
  if (second < 0) return undefined;
  const kind = text.slice(0, first);
  if (kind !== EnvelopeKind.MESSAGE && kind !== EnvelopeKind.RELEASED && kind !== EnvelopeKind.HINT) return undefined;
  return { kind, from: text.slice(first + 1, second), payload: text.slice(second + 1) };
}
