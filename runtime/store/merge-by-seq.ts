/**
 * Several reads of one stream, each in stream order, as one read in stream order: the reads of
 * a type's plain subject and of its entity subjects (runtime/events/subjects.ts,
 * typeSubjectFilters). Their first reads go out together, so a second subject costs a
 * concurrent round trip, not a sequential one; each source is then pulled only as it is consumed.
 */
export async function* mergeBySeq<T extends { readonly seq: number }>(sources: readonly AsyncGenerator<T>[]): AsyncGenerator<T> {
  if (sources.length === 1) {
    yield* sources[0]!;
    return;
  }
  try {
    const heads = await Promise.all(sources.map((s) => s.next()));
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i]!;
        if (!h.done && (best < 0 || h.value.seq < (heads[best]!.value as T).seq)) best = i;
      }
      if (best < 0) return;
      yield heads[best]!.value as T;
      heads[best] = await sources[best]!.next();
    }
  } finally {
    await Promise.all(sources.map((s) => s.return(undefined)));
  }
}
