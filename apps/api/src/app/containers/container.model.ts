import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Label } from '../images/image.model';

@ObjectType()
export class ContainerConfig {
  @Field(() => [String]) @ApiProperty({ type: [String] }) cmd!: string[];
  @Field(() => [String]) @ApiProperty({ type: [String] }) env!: string[];
  @Field() @ApiProperty() workingDir!: string;
  @Field() @ApiProperty() user!: string;
}

/** A container Drydock created (REST and GraphQL alike). */
@ObjectType()
export class Container {
  @Field(() => ID) @ApiProperty({ description: "the engine's full id" }) id!: string;
  @Field() @ApiProperty({ example: '0b2616b0e5a8' }) shortId!: string;
  @Field({ description: "the engine's name the container is on" }) @ApiProperty({ example: 'default', description: "the engine's name the container is on" }) engine!: string;
  @Field() @ApiProperty() name!: string;
  @Field() @ApiProperty({ description: 'the image as the container was created from it', example: 'training/sinatra:latest' }) image!: string;
  @Field() @ApiProperty({ example: 'sha256:…' }) imageId!: string;
  @Field() @ApiProperty({ example: 'sh -c gem install json' }) command!: string;
  @Field() @ApiProperty({ format: 'date-time' }) created!: string;
  @Field() @ApiProperty({ example: 'exited', description: 'created, running, paused, restarting, removing, exited or dead' }) state!: string;
  @Field() @ApiProperty() running!: boolean;
  @Field(() => Int, { nullable: true }) @ApiProperty({ type: Number, nullable: true, description: 'null while running or never started' }) exitCode!: number | null;
  @Field(() => String, { nullable: true }) @ApiProperty({ type: String, nullable: true, format: 'date-time' }) startedAt!: string | null;
  @Field(() => String, { nullable: true }) @ApiProperty({ type: String, nullable: true, format: 'date-time' }) finishedAt!: string | null;
  @Field(() => String, { nullable: true }) @ApiPropertyOptional({ type: String, nullable: true, description: 'the RUN job that created it' }) jobId!: string | null;
  @Field(() => String, { nullable: true }) @ApiPropertyOptional({ type: String, nullable: true }) team!: string | null;
  @Field(() => String, { nullable: true }) @ApiPropertyOptional({ type: String, nullable: true, description: 'the token that ran it' }) owner!: string | null;
  @Field(() => [Label]) @ApiProperty({ type: [Label] }) labels!: Label[];
  @Field(() => ContainerConfig) @ApiProperty({ type: ContainerConfig }) config!: ContainerConfig;
}

@ObjectType()
export class ContainerLogLine {
  @Field() @ApiProperty({ enum: ['stdout', 'stderr'] }) stream!: 'stdout' | 'stderr';
  @Field() @ApiProperty() line!: string;
}

/** `GET /v1/containers/{id}/logs` */
export class ContainerLogs {
  @ApiProperty({ type: [ContainerLogLine], description: 'in output order, without their newlines; a line longer than 1 MiB is cut and ends " [line truncated]"' }) lines!: ContainerLogLine[];
  @ApiProperty({ description: 'true when the output went past `limit` bytes: the last line is cut there and nothing after it is sent' }) truncated!: boolean;
}
