import { Field, Float, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { JobEventKind, JobState, JobType, LogStream } from '@drydock/jobs';
import { Builder } from '@drydock/docker';
import GraphQLJSON from 'graphql-type-json';

registerEnumType(JobType, { name: 'JobType' });
registerEnumType(JobState, { name: 'JobState' });
registerEnumType(JobEventKind, { name: 'JobEventKind' });
registerEnumType(LogStream, { name: 'LogStream' });
registerEnumType(Builder, { name: 'Builder' });

@ObjectType('JobResult')
export class JobResultModel {
  @Field(() => String, { nullable: true }) @ApiPropertyOptional() imageId?: string;
  @Field(() => String, { nullable: true }) @ApiPropertyOptional() digest?: string;
  @Field(() => [String], { nullable: true }) @ApiPropertyOptional({ type: [String] }) tags?: string[];
  @Field(() => String, { nullable: true }) @ApiPropertyOptional() containerId?: string;
  @Field(() => Int, { nullable: true }) @ApiPropertyOptional() exitCode?: number;
  @Field(() => Float, { nullable: true, description: 'EXPORT: bytes of the tar at GET /v1/jobs/{id}/artifact' })
  @ApiPropertyOptional() artifactBytes?: number;
  @Field(() => Int, { nullable: true, description: 'BUILD on BuildKit: the steps (vertices) the build ran' })
  @ApiPropertyOptional() steps?: number;
  @Field(() => Int, { nullable: true, description: 'BUILD on BuildKit: how many of the steps came from cache' })
  @ApiPropertyOptional() cachedSteps?: number;
}

@ObjectType('JobError')
export class JobErrorModel {
  @Field() @ApiProperty({ example: 'REGISTRY_UNAUTHORIZED' }) code!: string;
  @Field() @ApiProperty({ description: "the engine's or registry's own message" }) message!: string;
}

@ObjectType('Job')
export class JobModel {
  @Field(() => ID) @ApiProperty() id!: string;
  @Field(() => JobType) @ApiProperty({ enum: JobType }) type!: JobType;
  @Field(() => JobState) @ApiProperty({ enum: JobState }) state!: JobState;
  @Field(() => Float, { nullable: true }) @ApiProperty({ type: Number, nullable: true, minimum: 0, maximum: 1 }) progress!: number | null;
  @Field() @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @Field(() => String, { nullable: true }) @ApiProperty({ type: String, nullable: true, format: 'date-time' }) startedAt!: string | null;
  @Field(() => String, { nullable: true }) @ApiProperty({ type: String, nullable: true, format: 'date-time' }) finishedAt!: string | null;
  @Field(() => GraphQLJSON) @ApiProperty({ type: 'object', additionalProperties: true }) request!: Record<string, unknown>;
  @Field(() => JobResultModel, { nullable: true }) @ApiProperty({ type: JobResultModel, nullable: true }) result!: JobResultModel | null;
  @Field(() => JobErrorModel, { nullable: true }) @ApiProperty({ type: JobErrorModel, nullable: true }) error!: JobErrorModel | null;
  @Field(() => String, { nullable: true }) @ApiProperty({ type: String, nullable: true }) team!: string | null;
  @Field(() => Int) @ApiProperty() attempts!: number;
  @Field(() => String, { nullable: true, description: "the engine's name the job ran on (or waits for)" })
  @ApiProperty({ type: String, nullable: true, example: 'default', description: "the engine's name the job ran on (or waits for)" }) engine?: string | null;
  @Field(() => Int, { nullable: true, description: "while QUEUED, 1-based place among its team's waiting jobs of this type (1 starts next)" })
  @ApiProperty({ type: Number, nullable: true, minimum: 1 }) position?: number | null;
  @Field(() => Int, { nullable: true, description: 'the time limit of each attempt, in seconds; past it the job fails JOB_TIMEOUT' })
  @ApiProperty({ type: Number, nullable: true, minimum: 1 }) timeoutSeconds?: number | null;
}

@ObjectType('JobPage')
export class JobPageModel {
  @Field(() => [JobModel], { description: 'newest first' }) items!: JobModel[];
  @Field(() => String, {
    nullable: true,
    description: 'pass as `cursor` for the next page; null when no older job is left. A page may be short (even empty) and still have one',
  })
  nextCursor!: string | null;
}

@ObjectType('JobLayer')
export class JobLayerModel {
  @Field() @ApiProperty() id!: string;
  @Field() @ApiProperty({ example: 'Downloading' }) status!: string;
  @Field(() => Float, { nullable: true }) @ApiProperty({ type: Number, nullable: true }) current!: number | null;
  @Field(() => Float, { nullable: true }) @ApiProperty({ type: Number, nullable: true }) total!: number | null;
}

@ObjectType('JobStep')
export class JobStepModel {
  @Field(() => Int) @ApiProperty() index!: number;
  @Field(() => Int) @ApiProperty() count!: number;
  @Field() @ApiProperty({ example: 'RUN gem install sinatra' }) instruction!: string;
  @Field(() => String, { nullable: true, description: "BuildKit: the vertex's digest" }) @ApiPropertyOptional({ type: String, nullable: true }) id?: string | null;
  @Field(() => String, { nullable: true, description: 'BuildKit: the step as it prints it, `[build 2/3] RUN npm ci`' })
  @ApiPropertyOptional({ type: String, nullable: true }) name?: string | null;
  @Field(() => Boolean, { nullable: true }) @ApiPropertyOptional({ type: Boolean, nullable: true }) cached?: boolean | null;
  @Field(() => String, { nullable: true }) @ApiPropertyOptional({ type: String, nullable: true, format: 'date-time' }) startedAt?: string | null;
  @Field(() => String, { nullable: true }) @ApiPropertyOptional({ type: String, nullable: true, format: 'date-time' }) completedAt?: string | null;
  @Field(() => String, { nullable: true }) @ApiPropertyOptional({ type: String, nullable: true }) error?: string | null;
}

@ObjectType('JobEvent')
export class JobEventModel {
  @Field(() => ID) @ApiProperty() jobId!: string;
  @Field(() => Int) @ApiProperty({ description: 'gapless, 1-based' }) sequence!: number;
  @Field() @ApiProperty({ format: 'date-time' }) at!: string;
  @Field(() => JobEventKind) @ApiProperty({ enum: JobEventKind }) kind!: JobEventKind;
  @Field(() => JobState, { nullable: true }) @ApiProperty({ enum: JobState, nullable: true }) state!: JobState | null;
  @Field(() => String, { nullable: true }) @ApiProperty({ type: String, nullable: true }) message!: string | null;
  @Field(() => Float, { nullable: true }) @ApiProperty({ type: Number, nullable: true }) progress!: number | null;
  @Field(() => JobLayerModel, { nullable: true }) @ApiProperty({ type: JobLayerModel, nullable: true }) layer!: JobLayerModel | null;
  @Field(() => JobStepModel, { nullable: true }) @ApiProperty({ type: JobStepModel, nullable: true }) step!: JobStepModel | null;
  @Field(() => LogStream, { nullable: true, description: 'LOG lines of a process (a run, a BuildKit step): the stream they came from' })
  @ApiProperty({ enum: LogStream, nullable: true }) stream!: LogStream | null;
  @Field(() => JobResultModel, { nullable: true }) @ApiProperty({ type: JobResultModel, nullable: true }) result!: JobResultModel | null;
  @Field(() => JobErrorModel, { nullable: true }) @ApiProperty({ type: JobErrorModel, nullable: true }) error!: JobErrorModel | null;
}
