/**
 * @module The upload queue: files sent one after another, each with its progress and,
 * on failure, the reason in plain words. While writes are paused the files not sent
 * yet wait, and go out by themselves once writes resume.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError, isAbort, type Photo } from '../api';
import { useServices } from '../app/services';
import { useWritesPaused } from '../app/useWritesPaused';

export interface UploadItem {
  id: number;
  name: string;
  /** 0..1 */
  progress: number;
  status: 'waiting' | 'uploading' | 'done' | 'failed';
  error?: string;
}

export function useUploads(onUploaded: (photo: Photo) => void) {
  const { api, quorum } = useServices();
  const [items, setItems] = useState<UploadItem[]>([]);
  const queue = useRef<Array<{ id: number; file: File }>>([]);
  const running = useRef(false);
  const nextId = useRef(1);
  const abort = useRef(new AbortController());
  const uploaded = useRef(onUploaded);
  useEffect(() => {
    uploaded.current = onUploaded;
  });
  const paused = useWritesPaused();
  const pausedNow = useRef(!!paused);
  pausedNow.current = !!paused;

  useEffect(() => {
    const ac = new AbortController();
    abort.current = ac;
    return () => ac.abort();
  }, []);

  const patch = (id: number, p: Partial<UploadItem>) =>
    setItems((old) => old.map((it) => (it.id === id ? { ...it, ...p } : it)));

  // biome-ignore lint/correctness/useExhaustiveDependencies: patch only calls the stable setItems
  const pump = useCallback(async () => {
    if (running.current) return;
    running.current = true;
    try {
      // Paused (fenced, no quorum...): what is not sent yet waits for the pause to end.
      const next = () => (pausedNow.current || quorum.refused ? undefined : queue.current.shift());
      for (let job = next(); job; job = next()) {
        const { id, file } = job;
        patch(id, { status: 'uploading' });
        try {
          const photo = await api.upload(file, {
            signal: abort.current.signal,
            onProgress: (progress) => patch(id, { progress }),
          });
          patch(id, { status: 'done', progress: 1 });
          uploaded.current(photo);
        } catch (err) {
          if (isAbort(err)) return;
          patch(id, { status: 'failed', error: describeError(err, 'upload') });
        }
      }
    } finally {
      running.current = false;
    }
  }, [api, quorum]);

  // Writes resumed: send what waited.
  useEffect(() => {
    if (!paused) void pump();
  }, [paused, pump]);

  const add = useCallback(
    (files: File[]) => {
      const jobs = files.map((file) => ({ id: nextId.current++, file }));
      setItems((old) => [
        ...old.filter((it) => it.status === 'uploading' || it.status === 'waiting'),
        ...jobs.map((j) => ({ id: j.id, name: j.file.name, progress: 0, status: 'waiting' as const })),
      ]);
      queue.current.push(...jobs);
      void pump();
    },
    [pump],
  );

  const clearFinished = useCallback(
    () => setItems((old) => old.filter((it) => it.status === 'uploading' || it.status === 'waiting')),
    [],
  );

  return {
    items,
    add,
    clearFinished,
    busy: items.some((it) => it.status === 'uploading' || it.status === 'waiting'),
    paused,
  };
}
