import { Field, InputType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsBoolean,
  IsEnum,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import GraphQLJSON from 'graphql-type-json';
import { Builder } from '@drydock/docker';
import { QueryArray, QueryBoolean, PLATFORM } from '../common/validation';
import { EngineField } from '../engine/engine-field';
import { TimeoutSecondsField } from '../jobs/timeout-seconds';

/** A path inside the context: relative, no `..` segment. */
const CONTEXT_PATH = /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[^\0]{1,255}$/;

/** JSON objects given in the query string, as the Engine API's `buildargs` and `labels`. */
const JsonQuery = () =>
  Transform(({ value }) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  });

/** `builder=buildkit` as well as `BUILDKIT`: the issue and the docker CLI spell it in lower case. */
const UpperCase = () => Transform(({ value }) => (typeof value === 'string' ? value.toUpperCase() : value));

/** How a tar context's entries are ordered. */
export enum ContextOrder {
  /** Whatever order: the build starts once the upload is whole. */
  ANY = 'ANY',
  /**
   * BuildKit's walk order (each directory's entries sorted by name, a directory
   * right before what it holds, as `tar --sort=name` writes them): a BuildKit
   * build starts while the upload still arrives. An entry out of order is a 400.
   */
  SORTED = 'SORTED',
}

const ENGINE_HELP = 'the engine to build on; absent, the healthy engine with the fewest waiting jobs';

/** `POST /v1/builds` with a tar body: the Engine API's own query parameters. */
export class BuildQuery {
  @TimeoutSecondsField() timeoutSeconds?: number;
  @EngineField(ENGINE_HELP) engine?: string;
  @ApiProperty({ type: [String], description: 'repeat for several tags (`-t`)' })
  @QueryArray() @IsString({ each: true }) @MaxLength(512, { each: true }) @ArrayMinSize(1) @ArrayMaxSize(32) t!: string[];
  @ApiPropertyOptional({ default: 'Dockerfile', description: '`-f`, a path inside the context' })
  @IsOptional() @IsString() @Matches(CONTEXT_PATH, { message: 'dockerfile must be a relative path inside the context' }) dockerfile?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) target?: string;
  @ApiPropertyOptional({ description: 'JSON object of build args' }) @IsOptional() @JsonQuery() @IsObject() buildargs?: Record<string, string>;
  @ApiPropertyOptional({ description: 'JSON object of labels' }) @IsOptional() @JsonQuery() @IsObject() labels?: Record<string, string>;
  @ApiPropertyOptional() @IsOptional() @QueryBoolean() @IsBoolean() nocache?: boolean;
  @ApiPropertyOptional() @IsOptional() @QueryBoolean() @IsBoolean() pull?: boolean;
  @ApiPropertyOptional({ example: 'linux/amd64' }) @IsOptional() @Matches(PLATFORM, { message: 'platform must be os/arch[/variant]' }) platform?: string;
  @ApiPropertyOptional({ enum: ['buildkit', 'legacy'], description: 'BuildKit where the engine has it unless asked otherwise' })
  @IsOptional() @UpperCase() @IsEnum(Builder) builder?: Builder;
  @ApiPropertyOptional({ type: [String], description: 'a build secret id, repeated (`RUN --mount=type=secret,id=<id>`)' })
  @IsOptional() @QueryArray() @IsString({ each: true }) @MaxLength(128, { each: true }) secret?: string[];
  @ApiPropertyOptional({ type: [String], description: 'an image whose inline cache the build may reuse, repeated' })
  @IsOptional() @QueryArray() @IsString({ each: true }) @MaxLength(512, { each: true }) cachefrom?: string[];
  @ApiPropertyOptional({
    enum: ['any', 'sorted'],
    default: 'any',
    description:
      "`sorted`: the tar's entries come in BuildKit's walk order (each directory's entries sorted by name, a directory right before what it holds, as `tar --sort=name` writes them), " +
      'so a BuildKit build starts while the upload still arrives; an entry out of order is refused (400)',
  })
  @IsOptional() @UpperCase() @IsEnum(ContextOrder) contextOrder?: ContextOrder;
}

/** A build from an inline Dockerfile and small files (JSON), or from a context uploaded before (GraphQL). */
@InputType('BuildImageInput')
export class BuildImageInput {
  @EngineField(ENGINE_HELP) engine?: string;

  @Field({ nullable: true, description: 'the Dockerfile text; or give contextUploadId' })
  @ApiPropertyOptional() @IsOptional() @IsString() @MinLength(1) @MaxLength(1024 * 1024) dockerfile?: string;

  @Field(() => GraphQLJSON, { nullable: true, description: 'path -> base64 content, packed into the context' })
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string', format: 'byte' } })
  @IsOptional() @IsObject() files?: Record<string, string>;

  @Field({ nullable: true, description: 'a context uploaded with POST /v1/builds/contexts' })
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) contextUploadId?: string;

  @Field({ nullable: true, description: '`-f`: where the Dockerfile is in the context' })
  @ApiPropertyOptional({ default: 'Dockerfile' })
  @IsOptional() @IsString() @Matches(CONTEXT_PATH, { message: 'dockerfilePath must be a relative path inside the context' }) dockerfilePath?: string;

  @Field(() => [String]) @ApiProperty({ type: [String], example: ['ouruser/sinatra:v2'] })
  @IsString({ each: true }) @MaxLength(512, { each: true }) @ArrayMinSize(1) @ArrayMaxSize(32) tags!: string[];

  @Field(() => GraphQLJSON, { nullable: true }) @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional() @IsObject() buildArgs?: Record<string, string>;
  @Field({ nullable: true }) @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) target?: string;
  @Field(() => GraphQLJSON, { nullable: true }) @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional() @IsObject() labels?: Record<string, string>;
  @Field({ nullable: true }) @ApiPropertyOptional() @IsOptional() @IsBoolean() noCache?: boolean;
  @Field({ nullable: true }) @ApiPropertyOptional() @IsOptional() @IsBoolean() pull?: boolean;
  @Field({ nullable: true }) @ApiPropertyOptional() @IsOptional() @Matches(PLATFORM, { message: 'platform must be os/arch[/variant]' }) platform?: string;
  @TimeoutSecondsField() timeoutSeconds?: number;
  @Field(() => Builder, { nullable: true, description: 'BUILDKIT where the engine has it unless asked otherwise' })
  @ApiPropertyOptional({ enum: Builder }) @IsOptional() @IsEnum(Builder) builder?: Builder;
  @Field(() => [String], { nullable: true, description: 'build secret ids, for RUN --mount=type=secret,id=<id> (BuildKit)' })
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsString({ each: true }) @MaxLength(128, { each: true }) secrets?: string[];
  @Field(() => [String], { nullable: true, description: 'images whose inline cache the build may reuse (BuildKit)' })
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsString({ each: true }) @MaxLength(512, { each: true }) cacheFrom?: string[];
}

export { CONTEXT_PATH };
