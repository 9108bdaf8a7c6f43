import { ArgsType, Field, InputType, Int } from '@nestjs/graphql';
import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { QueryArray, QueryBoolean, REGISTRY_HOST } from '../common/validation';
import { EngineField } from '../engine/engine-field';
import { ReferenceGlob } from './reference-glob';

/** `GET /v1/images` and `images(filter:)`: one set of rules for both. */
@InputType('ImageFilter')
export class ListImagesQuery {
  @Field({ nullable: true, description: 'glob over repository[:tag], as `docker images REPO`' })
  @ApiPropertyOptional({ description: 'glob over repository[:tag], as `docker images REPO`' })
  @ReferenceGlob()
  reference?: string;

  @Field({ nullable: true }) @ApiPropertyOptional() @IsOptional() @QueryBoolean() @IsBoolean() dangling?: boolean;

  @Field(() => [String], { nullable: true, description: '`key` or `key=value`' })
  @ApiPropertyOptional({ type: [String], description: '`key` or `key=value`; repeat for several' })
  @IsOptional() @QueryArray() @IsString({ each: true }) @MaxLength(512, { each: true }) @ArrayMaxSize(32)
  label?: string[];

  @EngineField('only the images of this engine; default: every engine\'s, merged') engine?: string;
}

/** `?engine=` of the REST image routes: the engine to ask, instead of the one holding the image. */
export class EngineQuery {
  @EngineField('the engine to ask; default: the one that holds the image (409 AMBIGUOUS_ENGINE when several hold different images)') engine?: string;
}

/** `POST /v1/images/{ref}/tags`, whose path names the source; with it, `tagImage`'s arguments. */
@ArgsType()
export class TagImageBody {
  @Field() @ApiProperty({ example: 'ouruser/sinatra' }) @IsString() @MinLength(1) @MaxLength(512) repository!: string;
  @Field(() => String, { nullable: true }) @ApiPropertyOptional({ example: 'devel', description: 'default: the tag in repository, else latest' })
  @IsOptional() @IsString() @MaxLength(256) tag?: string;
  @Field(() => Boolean, { nullable: true }) @ApiPropertyOptional({ description: 'move the tag even if it names another image' })
  @IsOptional() @IsBoolean() force?: boolean;
}

@ArgsType()
export class TagImageArgs extends TagImageBody {
  @Field() @IsString() @MinLength(1) @MaxLength(512) source!: string;
  @EngineField('the engine to tag on; default: the one that holds source') engine?: string;
}

export class RemoveImageQuery extends EngineQuery {
  @ApiPropertyOptional() @IsOptional() @QueryBoolean() @IsBoolean() force?: boolean;
  @ApiPropertyOptional() @IsOptional() @QueryBoolean() @IsBoolean() noprune?: boolean;
}

@InputType('PruneImagesInput')
export class PruneImagesInput {
  @Field({ nullable: true }) @ApiPropertyOptional({ description: 'true (default): dangling only; false: every unused image' })
  @IsOptional() @IsBoolean() dangling?: boolean;
  @Field({ nullable: true }) @ApiPropertyOptional({ description: 'timestamp or Go duration (`24h`)' })
  @IsOptional() @IsString() @Matches(/^(?:\d+(?:\.\d+)?(?:ns|us|ms|s|m|h))+$|^\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?$|^\d+$/, { message: 'until must be a Go duration (24h) or a timestamp' })
  until?: string;
  @Field(() => [String], { nullable: true }) @ApiPropertyOptional({ type: [String], description: '`key` or `key=value`, all must match' }) @IsOptional() @IsArray() @IsString({ each: true }) @MaxLength(512, { each: true }) @ArrayMaxSize(32) labels?: string[];
  @EngineField('prune this engine only; default: every healthy engine, the results summed') engine?: string;
}

/** The query of `GET /v1/search` and the arguments of `searchImages`: one set of rules for both. */
@ArgsType()
export class SearchImagesQuery {
  @Field() @ApiProperty({ example: 'sinatra' }) @IsString() @MinLength(1) @MaxLength(255) term!: string;
  @Field(() => Int, { nullable: true }) @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 25 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100) limit?: number;
  @Field({ nullable: true }) @ApiPropertyOptional({ description: "a private registry's host; its catalogue is searched" })
  @IsOptional() @IsString() @MaxLength(255) @Matches(REGISTRY_HOST, { message: 'registry must be a host[:port]' }) registry?: string;
  @Field({ nullable: true }) @ApiPropertyOptional() @IsOptional() @QueryBoolean() @IsBoolean() isOfficial?: boolean;
  @Field(() => Int, { nullable: true }) @ApiPropertyOptional() @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(1_000_000_000) minStars?: number;
}
