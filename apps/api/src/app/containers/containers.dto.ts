import { Field, ID, InputType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { QueryBoolean } from '../common/validation';
import { EngineField } from '../engine/engine-field';
import { TimeoutSecondsField } from '../jobs/timeout-seconds';
import { ABSOLUTE_PATH, COMMIT_BOUNDS, CONTAINER_ID, ENV_ENTRY, RUN_BOUNDS, USER } from './fence';

/**
 * `POST /v1/containers` and `runContainer(input:)`: exactly the fields of
 * RUN_FIELDS (fence.ts). With the global ValidationPipe's forbidNonWhitelisted,
 * any other property (privileged, binds, hostConfig, ...) is a 400.
 */
@InputType('RunContainerInput')
export class RunContainerInput {
  @Field({ description: 'a reference, an image id or a digest reference; the image must be present locally' })
  @ApiProperty({ example: 'localhost:5000/training/sinatra:latest' })
  @IsString() @MinLength(1) @MaxLength(RUN_BOUNDS.imageMaxLength)
  image!: string;

  @Field(() => [String], { nullable: true, description: "the command and its arguments; default: the image's CMD" })
  @ApiPropertyOptional({ type: [String], example: ['sh', '-c', 'gem install json'] })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(RUN_BOUNDS.cmdMaxItems)
  @IsString({ each: true }) @MaxLength(RUN_BOUNDS.argMaxLength, { each: true })
  cmd?: string[];

  @Field(() => [String], { nullable: true, description: '`KEY=value` entries' })
  @ApiPropertyOptional({ type: [String], example: ['LANG=C.UTF-8'] })
  @IsOptional() @IsArray() @ArrayMaxSize(RUN_BOUNDS.envMaxItems)
  @IsString({ each: true }) @MaxLength(RUN_BOUNDS.envEntryMaxLength, { each: true })
  @Matches(ENV_ENTRY, { each: true, message: 'each env entry must be KEY=value' })
  env?: string[];

  @Field({ nullable: true, description: 'an absolute path inside the container' })
  @ApiPropertyOptional({ example: '/app' })
  @IsOptional() @IsString() @MaxLength(RUN_BOUNDS.workingDirMaxLength)
  @Matches(ABSOLUTE_PATH, { message: 'workingDir must be an absolute path' })
  workingDir?: string;

  @Field({ nullable: true, description: 'name, uid, name:group or uid:gid' })
  @ApiPropertyOptional({ example: '1000:1000' })
  @IsOptional() @IsString() @MaxLength(RUN_BOUNDS.userMaxLength)
  @Matches(USER, { message: 'user must be name, uid, name:group or uid:gid' })
  user?: string;

  /** Not a container field: the RUN job's time limit, taken off before the fence sees the request. */
  @TimeoutSecondsField() timeoutSeconds?: number;

  /** Not a container field either: where the RUN job goes. */
  @EngineField('the engine to run on; absent, the one engine that has the image') engine?: string;
}

const ON_ENGINE = "the container's engine; absent, whichever engine has it";

/** `POST /v1/containers/{id}/commit`: `docker commit -m -a -c CONTAINER REPOSITORY[:TAG]`. */
@InputType({ isAbstract: true })
export class CommitContainerBody {
  @Field({ description: 'the new image\'s repository; may carry the tag when `tag` is left out' })
  @ApiProperty({ example: 'localhost:5000/ouruser/sinatra' })
  @IsString() @MinLength(1) @MaxLength(512)
  repository!: string;

  @Field({ nullable: true, description: 'default: the tag in repository, else latest' })
  @ApiPropertyOptional({ example: 'v2' })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(128)
  tag?: string;

  @Field({ nullable: true, description: '`-m`: the commit message, shown as the image\'s comment' })
  @ApiPropertyOptional({ example: 'Added json gem' })
  @IsOptional() @IsString() @MaxLength(COMMIT_BOUNDS.messageMaxLength)
  message?: string;

  @Field({ nullable: true, description: '`-a`' })
  @ApiPropertyOptional({ example: 'Kate Smith <kate@example.com>' })
  @IsOptional() @IsString() @MaxLength(COMMIT_BOUNDS.authorMaxLength)
  author?: string;

  @Field(() => [String], { nullable: true, description: '`-c`: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME or WORKDIR instructions' })
  @ApiPropertyOptional({ type: [String], example: ['CMD ["/bin/sh"]', 'ENV A=b'] })
  @IsOptional() @IsArray() @ArrayMaxSize(COMMIT_BOUNDS.changesMaxItems)
  @IsString({ each: true }) @MaxLength(COMMIT_BOUNDS.changeMaxLength, { each: true })
  changes?: string[];

  @EngineField(ON_ENGINE) engine?: string;
}

@InputType('CommitContainerInput')
export class CommitContainerInput extends CommitContainerBody {
  @Field(() => ID, { description: 'the container: id, id prefix or name' })
  @IsString() @Matches(CONTAINER_ID, { message: 'id must be a container id, id prefix or name' })
  id!: string;
}

export class ListContainersQuery {
  @ApiPropertyOptional({ description: 'stopped containers too (`docker ps -a`)' })
  @IsOptional() @QueryBoolean() @IsBoolean() all?: boolean;

  @EngineField('only this engine\'s containers; absent, every engine\'s') engine?: string;
}

/** `GET /v1/containers/{id}`. */
export class ContainerQuery {
  @EngineField(ON_ENGINE) engine?: string;
}

export class RemoveContainerQuery extends ContainerQuery {
  @ApiPropertyOptional({ description: 'kill a running container first' })
  @IsOptional() @QueryBoolean() @IsBoolean() force?: boolean;
}

export const LOG_LINES_MAX = 100_000;

export class ContainerLogsQuery extends ContainerQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: LOG_LINES_MAX, description: `the last N lines (\`docker logs --tail\`); default all` })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(LOG_LINES_MAX) tail?: number;

  @ApiPropertyOptional({
    description: 'only output since then (`docker logs --since`): an RFC 3339 time, UNIX seconds, or a duration before now (`90s`, `10m`, `2h`)',
    example: '10m',
  })
  @IsOptional() @IsString() @MaxLength(40) since?: string;

  @ApiPropertyOptional({
    minimum: 1,
    description:
      'at most this many bytes of output, each line counted with its newline; default and at most DRYDOCK_CONTAINER_LOGS_MAX_BYTES (16 MiB). ' +
      'Past it the line that crosses the limit is cut there, nothing more is sent, and `truncated` is true.',
  })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) limit?: number;
}
