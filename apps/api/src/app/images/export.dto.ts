import { Field, InputType } from '@nestjs/graphql';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { EngineField } from '../engine/engine-field';
import { TimeoutSecondsField } from '../jobs/timeout-seconds';
import { MAX_EXPORT_REFERENCES } from './export.service';

/** REST: the path names the first image; these are the others. */
export class ExportImagesBody {
  @ApiPropertyOptional({ type: [String], example: ['ouruser/sinatra:v1'], description: 'more references saved into the same tar' })
  @IsOptional() @IsArray() @ArrayMaxSize(MAX_EXPORT_REFERENCES - 1)
  @IsString({ each: true }) @MinLength(1, { each: true }) @MaxLength(512, { each: true }) references?: string[];

  @TimeoutSecondsField() timeoutSeconds?: number;

  @EngineField('the engine to export from; absent, the one engine that has the first image (every image must be there)') engine?: string;
}

@InputType('ExportImagesInput')
export class ExportImagesInput {
  @Field(() => [String])
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_EXPORT_REFERENCES)
  @IsString({ each: true }) @MinLength(1, { each: true }) @MaxLength(512, { each: true }) references!: string[];

  @TimeoutSecondsField() timeoutSeconds?: number;

  @EngineField('the engine to export from; absent, the one engine that has the first image (every image must be there)') engine?: string;
}
