import { Root, type Type } from 'protobufjs';

/*
 * The protobuf messages Drydock exchanges with the engine's BuildKit, defined
 * in code (protobufjs JSON descriptors) so nothing is read from disk at run
 * time: sources under jest and the webpack bundle of apps/api load them alike.
 * Trimmed to the fields Drydock reads or answers; names and field numbers are
 * BuildKit's own.
 *
 * Derived from Moby BuildKit (https://github.com/moby/buildkit), Copyright The
 * BuildKit Authors, Apache License 2.0:
 *   api/services/control/control.proto   (StatusResponse, Vertex, VertexStatus, VertexLog)
 *   session/auth/auth.proto              (moby.filesync.v1.Auth)
 *   session/secrets/secrets.proto        (moby.buildkit.secrets.v1.Secrets)
 * and from fsutil (https://github.com/tonistiigi/fsutil, Apache License 2.0):
 *   types/wire.proto, types/stat.proto   (fsutil.types.Packet, Stat: FileSync's DiffCopy)
 * and from gRPC's grpc/health/v1/health.proto (Apache License 2.0), and
 * google/protobuf/timestamp.proto (BSD-3-Clause).
 */

const ts = { type: 'google.protobuf.Timestamp' };

const root = Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Timestamp: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
          },
        },
      },
    },
    moby: {
      nested: {
        buildkit: {
          nested: {
            v1: {
              nested: {
                StatusResponse: {
                  fields: {
                    vertexes: { rule: 'repeated', type: 'Vertex', id: 1 },
                    statuses: { rule: 'repeated', type: 'VertexStatus', id: 2 },
                    logs: { rule: 'repeated', type: 'VertexLog', id: 3 },
                  },
                },
                Vertex: {
                  fields: {
                    digest: { type: 'string', id: 1 },
                    inputs: { rule: 'repeated', type: 'string', id: 2 },
                    name: { type: 'string', id: 3 },
                    cached: { type: 'bool', id: 4 },
                    started: { ...ts, id: 5 },
                    completed: { ...ts, id: 6 },
                    error: { type: 'string', id: 7 },
                  },
                },
                VertexStatus: {
                  fields: {
                    ID: { type: 'string', id: 1 },
                    vertex: { type: 'string', id: 2 },
                    name: { type: 'string', id: 3 },
                    current: { type: 'int64', id: 4 },
                    total: { type: 'int64', id: 5 },
                    timestamp: { ...ts, id: 6 },
                    started: { ...ts, id: 7 },
                    completed: { ...ts, id: 8 },
                  },
                },
                VertexLog: {
                  fields: {
                    vertex: { type: 'string', id: 1 },
                    timestamp: { ...ts, id: 2 },
                    stream: { type: 'int64', id: 3 },
                    msg: { type: 'bytes', id: 4 },
                  },
                },
              },
            },
            secrets: {
              nested: {
                v1: {
                  nested: {
                    GetSecretRequest: {
                      // annotations (2) left out: Drydock answers by id alone.
                      fields: { ID: { type: 'string', id: 1 } },
                    },
                    GetSecretResponse: { fields: { data: { type: 'bytes', id: 1 } } },
                  },
                },
              },
            },
          },
        },
        filesync: {
          nested: {
            v1: {
              nested: {
                CredentialsRequest: { fields: { Host: { type: 'string', id: 1 } } },
                CredentialsResponse: { fields: { Username: { type: 'string', id: 1 }, Secret: { type: 'string', id: 2 } } },
                FetchTokenRequest: {
                  fields: {
                    ClientID: { type: 'string', id: 1 },
                    Host: { type: 'string', id: 2 },
                    Realm: { type: 'string', id: 3 },
                    Service: { type: 'string', id: 4 },
                    Scopes: { rule: 'repeated', type: 'string', id: 5 },
                  },
                },
                FetchTokenResponse: {
                  fields: { Token: { type: 'string', id: 1 }, ExpiresIn: { type: 'int64', id: 2 }, IssuedAt: { type: 'int64', id: 3 } },
                },
                GetTokenAuthorityRequest: { fields: { Host: { type: 'string', id: 1 }, Salt: { type: 'bytes', id: 2 } } },
                GetTokenAuthorityResponse: { fields: { PublicKey: { type: 'bytes', id: 1 } } },
                VerifyTokenAuthorityRequest: {
                  fields: { Host: { type: 'string', id: 1 }, Payload: { type: 'bytes', id: 2 }, Salt: { type: 'bytes', id: 3 } },
                },
                VerifyTokenAuthorityResponse: { fields: { Signed: { type: 'bytes', id: 1 } } },
              },
            },
          },
        },
      },
    },
    fsutil: {
      nested: {
        types: {
          nested: {
            Packet: {
              fields: {
                type: { type: 'int32', id: 1 },
                stat: { type: 'Stat', id: 2 },
                ID: { type: 'uint32', id: 3 },
                data: { type: 'bytes', id: 4 },
              },
            },
            Stat: {
              // xattrs (10) left out: a tar context's are not carried over.
              fields: {
                path: { type: 'string', id: 1 },
                mode: { type: 'uint32', id: 2 },
                uid: { type: 'uint32', id: 3 },
                gid: { type: 'uint32', id: 4 },
                size: { type: 'int64', id: 5 },
                modTime: { type: 'int64', id: 6 },
                linkname: { type: 'string', id: 7 },
                devmajor: { type: 'int64', id: 8 },
                devminor: { type: 'int64', id: 9 },
              },
            },
          },
        },
      },
    },
    grpc: {
      nested: {
        health: {
          nested: {
            v1: {
              nested: {
                HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
                HealthCheckResponse: { fields: { status: { type: 'int32', id: 1 } } },
              },
            },
          },
        },
      },
    },
  },
});

export function messageType(name: string): Type {
  return root.lookupType(name);
}

export const StatusResponse = messageType('moby.buildkit.v1.StatusResponse');

export const Packet = messageType('fsutil.types.Packet');

/** fsutil.types.Packet.PacketType */
export enum PacketType {
  STAT = 0,
  REQ = 1,
  DATA = 2,
  FIN = 3,
  ERR = 4,
}

/** grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING */
export const HEALTH_SERVING = 1;
