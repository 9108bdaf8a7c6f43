import { Field, Float, ID, Int, ObjectType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Builder } from '@drydock/docker';

/** Shapes shared by REST (OpenAPI) and GraphQL, so the two answers cannot drift apart. */

@ObjectType()
export class RepoTag {
  @Field() @ApiProperty({ example: 'localhost:5000/ouruser/sinatra' }) repository!: string;
  @Field() @ApiProperty({ example: 'v2' }) tag!: string;
}

@ObjectType()
export class RepoDigest {
  @Field() @ApiProperty() repository!: string;
  @Field() @ApiProperty({ example: 'sha256:…' }) digest!: string;
}

@ObjectType()
export class Label {
  @Field() @ApiProperty() key!: string;
  @Field() @ApiProperty() value!: string;
}

@ObjectType()
export class ImageConfig {
  @Field(() => [String], { nullable: true }) @ApiProperty({ type: [String], nullable: true }) cmd!: string[] | null;
  @Field(() => [String], { nullable: true }) @ApiProperty({ type: [String], nullable: true }) entrypoint!: string[] | null;
  @Field(() => [String]) @ApiProperty({ type: [String] }) env!: string[];
  @Field() @ApiProperty() workingDir!: string;
  @Field() @ApiProperty() user!: string;
  @Field(() => [String]) @ApiProperty({ type: [String], example: ['80/tcp'] }) exposedPorts!: string[];
}

@ObjectType()
export class Image {
  @Field(() => ID) @ApiProperty({ example: 'sha256:5db5f8471261…' }) id!: string;
  @Field() @ApiProperty({ example: '5db5f8471261' }) shortId!: string;
  @Field(() => [RepoTag]) @ApiProperty({ type: [RepoTag] }) repoTags!: RepoTag[];
  @Field(() => [RepoDigest]) @ApiProperty({ type: [RepoDigest] }) repoDigests!: RepoDigest[];
  @Field() @ApiProperty({ format: 'date-time' }) created!: string;
  @Field(() => Float) @ApiProperty({ description: 'bytes' }) size!: number;
  @Field(() => [Label]) @ApiProperty({ type: [Label] }) labels!: Label[];
  @Field() @ApiProperty() architecture!: string;
  @Field() @ApiProperty() os!: string;
  @Field() @ApiProperty() author!: string;
  @Field() @ApiProperty() comment!: string;
  @Field(() => ImageConfig) @ApiProperty({ type: ImageConfig }) config!: ImageConfig;
  @Field(() => Int) @ApiProperty({ description: 'containers using this image (on every engine that holds it)' }) containers!: number;
  @Field(() => [String], { description: 'the engines that hold this image' })
  @ApiProperty({ type: [String], example: ['default'], description: 'the engines that hold this image' })
  // Optional to TypeScript only: every answer carries it (ImagesService fills it), but callers that still type the engine's Image compile.
  engines?: string[];
}

@ObjectType()
export class ImageLayer {
  @Field() @ApiProperty({ description: "'<missing>' for layers pulled from a registry" }) id!: string;
  @Field() @ApiProperty({ format: 'date-time' }) created!: string;
  @Field() @ApiProperty() createdBy!: string;
  @Field(() => Float) @ApiProperty() size!: number;
  @Field() @ApiProperty() comment!: string;
  @Field(() => [String]) @ApiProperty({ type: [String] }) tags!: string[];
}

@ObjectType()
export class RemoveImageResult {
  @Field(() => [String]) @ApiProperty({ type: [String], example: ['ouruser/sinatra:v2'] }) untagged!: string[];
  @Field(() => [String]) @ApiProperty({ type: [String], example: ['sha256:…'] }) deleted!: string[];
}

@ObjectType()
export class PruneResult {
  @Field(() => [String]) @ApiProperty({ type: [String] }) deleted!: string[];
  @Field(() => Float) @ApiProperty() spaceReclaimed!: number;
}

@ObjectType()
export class SearchResult {
  @Field() @ApiProperty() name!: string;
  @Field() @ApiProperty() description!: string;
  @Field(() => Int) @ApiProperty() stars!: number;
  @Field() @ApiProperty() official!: boolean;
  @Field() @ApiProperty() automated!: boolean;
  @Field() @ApiProperty({ example: 'docker.io' }) registry!: string;
}

@ObjectType()
export class ImageEvent {
  @Field() @ApiProperty({ example: 'tag' }) action!: string;
  @Field() @ApiProperty() id!: string;
  @Field(() => String, { nullable: true }) @ApiPropertyOptional({ type: String, nullable: true }) reference!: string | null;
  @Field() @ApiProperty({ format: 'date-time' }) at!: string;
  @Field({ description: 'the engine that reported it' }) @ApiProperty({ example: 'default' }) engine!: string;
}

@ObjectType()
export class EngineInfo {
  @Field() version!: string;
  @Field() apiVersion!: string;
  @Field() os!: string;
  @Field() architecture!: string;
  @Field() kernelVersion!: string;
  @Field(() => Int) images!: number;
  @Field(() => Int) containers!: number;
  @Field(() => Int) containersRunning!: number;
  @Field() storageDriver!: string;
  @Field() rootDir!: string;
  @Field(() => [Builder], { description: 'the builders a build may ask for; BuildKit is the default where offered' }) builders!: Builder[];
}
