import { PassThrough, type Readable } from 'node:stream';
import Docker from 'dockerode';
import { runUser } from '@hexa/kit';

/** Labels on every run container: which platform instance, workspace and run it belongs to. */
export const labels = {
  instance: 'hexa.instance',
  workspace: 'hexa.workspace',
  run: 'hexa.run',
  /** `host:port` of the workspace cluster the run reaches through the worker's relay (absent without relay). */
  databaseRelay: 'hexa.database-relay',
} as const;

/** The image could not be found locally nor pulled: the run fails with this reason. */
export class ImageUnavailable extends Error {
  override name = 'ImageUnavailable';
}

export interface RunContainerSpec {
  name: string;
  image: string;
  command: string[];
  env: string[];
  labels: Record<string, string>;
  memoryMb: number;
  cpus: number;
  pidsLimit: number;
  /** Host folder mounted read-write at /home/hexa/workspace. */
  filesDir: string;
  /** The Docker network it joins (made by `ensureRunNetwork`). */
  network: string;
}

/** The bridge driver's option that, set to false, drops traffic between containers of one network. */
const interContainerOption = 'com.docker.network.bridge.enable_icc';

export interface ContainerState {
  id: string;
  running: boolean;
  exitCode: number;
  oomKilled: boolean;
  imageId: string;
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/** dockerode's options from a DOCKER_HOST value (unix:// or tcp://); the default socket otherwise. */
export function dockerOptions(dockerHost: string): Docker.DockerOptions {
  if (!dockerHost) return { socketPath: '/var/run/docker.sock' };
  const parsed = new URL(dockerHost);
  if (parsed.protocol === 'unix:') return { socketPath: parsed.pathname };
  return { host: parsed.hostname, port: Number(parsed.port || 2375), protocol: 'http' };
}

/**
 * The Docker Engine as the runner uses it: images, run containers (never
 * privileged, no capabilities, no new privileges, bounded memory, CPU and
 * processes), their output and their end. One place, so that another engine
 * (Kubernetes Jobs) can take its place behind the same functions.
 */
export function createDockerEngine(options: { dockerHost: string }) {
  const docker = new Docker(dockerOptions(options.dockerHost));

  async function imageId(reference: string): Promise<string | undefined> {
    try {
      return (await docker.getImage(reference).inspect()).Id;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async function pull(reference: string, timeoutMs: number): Promise<void> {
    const attempt = new Promise<void>((resolve, reject) => {
      docker.pull(reference, (error: Error | null, stream?: Readable) => {
        if (error || !stream) return reject(error ?? new Error('no answer'));
        docker.modem.followProgress(stream, (done: Error | null) => (done ? reject(done) : resolve()));
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([attempt, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    docker,

    async ping(): Promise<void> {
      await docker.ping();
    },

    /** The image's id, pulling it when it is not here; `ImageUnavailable` with the reason when that fails. */
    async ensureImage(reference: string, pullTimeoutMs: number): Promise<string> {
      const present = await imageId(reference);
      if (present) return present;
      try {
        await pull(reference, pullTimeoutMs);
      } catch (error) {
        const message = (error as Error).message.replace(/\s+/g, ' ').slice(0, 300);
        throw new ImageUnavailable(`The image ${reference} is not on the runner's Docker engine and could not be pulled (${message})`);
      }
      const pulled = await imageId(reference);
      if (!pulled) throw new ImageUnavailable(`The image ${reference} could not be pulled`);
      return pulled;
    },

    /**
     * The network runs join: a bridge on which containers reach the host (the
     * gateway, the database relay) but not each other — on Docker's default
     * bridge a run could reach any other workspace's run. Made when missing;
     * one that exists with traffic between containers allowed is refused.
     */
    async ensureRunNetwork(name: string): Promise<void> {
      const network = docker.getNetwork(name);
      const describe = () => network.inspect() as Promise<{ Driver: string; Options?: Record<string, string> | null }>;
      let info = await describe().catch((error: unknown) => {
        if (statusOf(error) === 404) return undefined;
        throw error;
      });
      if (!info) {
        // Another worker on this engine may make it at the same moment: its network is as good (409).
        await docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Options: { [interContainerOption]: 'false' }, Labels: { 'hexa.runs-network': 'true' } }).catch((error: unknown) => {
          if (statusOf(error) !== 409) throw error;
        });
        info = await describe();
      }
      if (info.Driver !== 'bridge' || info.Options?.[interContainerOption] !== 'false') {
        throw new Error(`The Docker network ${name} lets its containers reach each other; remove it (the runner makes it again) or name another in RUN_NETWORK`);
      }
    },

    /** Creates the run's container (names are per run: one an earlier, dead attempt left is replaced). */
    async createRunContainer(spec: RunContainerSpec): Promise<string> {
      try {
        const container = await docker.createContainer({
          name: spec.name,
          Image: spec.image,
          Cmd: spec.command,
          Env: spec.env,
          Labels: spec.labels,
          User: `${runUser.uid}:${runUser.gid}`,
          WorkingDir: '/home/hexa/workspace',
          Tty: false,
          AttachStdin: false,
          OpenStdin: false,
          HostConfig: {
            Privileged: false,
            CapDrop: ['ALL'],
            SecurityOpt: ['no-new-privileges'],
            Memory: spec.memoryMb * 1024 * 1024,
            // Swap would let a run exceed its memory limit unseen.
            MemorySwap: spec.memoryMb * 1024 * 1024,
            NanoCpus: Math.round(spec.cpus * 1e9),
            PidsLimit: spec.pidsLimit,
            Binds: [`${spec.filesDir}:/home/hexa/workspace`],
            ExtraHosts: ['host.docker.internal:host-gateway'],
            NetworkMode: spec.network,
            LogConfig: { Type: 'json-file', Config: {} },
          },
        });
        return container.id;
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
        // Left by a start that died before the run was running: made again, with this start's token.
        await docker.getContainer(spec.name).remove({ force: true });
        return this.createRunContainer(spec);
      }
    },

    async start(containerId: string): Promise<void> {
      try {
        await docker.getContainer(containerId).start();
      } catch (error) {
        // 304: already started (a retry after a crash between start and recording it).
        if (statusOf(error) !== 304) throw error;
      }
    },

    async inspect(containerId: string): Promise<ContainerState | undefined> {
      try {
        const info = await docker.getContainer(containerId).inspect();
        return { id: info.Id, running: info.State.Running, exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled, imageId: info.Image };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    },

    /** Waits for the container to exit; its exit code and whether the kernel killed it for memory. */
    async wait(containerId: string): Promise<ContainerState | undefined> {
      try {
        await docker.getContainer(containerId).wait();
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
      return this.inspect(containerId);
    },

    /** Its output from the beginning, followed until it exits: stdout and stderr interleaved as one text stream. */
    async follow(containerId: string): Promise<Readable> {
      const raw = (await docker.getContainer(containerId).logs({ follow: true, stdout: true, stderr: true })) as unknown as Readable;
      const out = new PassThrough();
      docker.modem.demuxStream(raw, out, out);
      raw.on('end', () => out.end());
      raw.on('error', (error) => out.destroy(error));
      return out;
    },

    /** SIGTERM, then SIGKILL after the grace period; a container that is gone or stopped is fine. */
    async stop(containerId: string, graceSeconds: number): Promise<void> {
      try {
        await docker.getContainer(containerId).stop({ t: graceSeconds });
      } catch (error) {
        if (statusOf(error) !== 304 && statusOf(error) !== 404) throw error;
      }
    },

    async remove(containerId: string): Promise<void> {
      try {
        await docker.getContainer(containerId).remove({ force: true });
      } catch (error) {
        if (statusOf(error) !== 404 && statusOf(error) !== 409) throw error;
      }
    },

    /** This instance's run containers, running or not. */
    async listRunContainers(instance: string): Promise<{ id: string; runId: string | undefined; running: boolean }[]> {
      const containers = await docker.listContainers({ all: true, filters: { label: [`${labels.instance}=${instance}`] } });
      return containers.map((container) => ({ id: container.Id, runId: container.Labels[labels.run], running: container.State === 'running' }));
    },
  };
}

export type DockerEngine = ReturnType<typeof createDockerEngine>;
