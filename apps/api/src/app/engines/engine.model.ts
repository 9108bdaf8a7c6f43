import { Field, Int, ObjectType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Builder } from '@drydock/docker';
import { Label } from '../images/image.model';

/** One configured engine as `GET /v1/engines` and GraphQL `engines` show it; what the engine itself says is null while it does not answer. */
@ObjectType('Engine')
export class EngineModel {
  @Field() @ApiProperty({ example: 'default' }) name!: string;
  @Field(() => String, { nullable: true, description: 'admins only' })
  @ApiPropertyOptional({ type: String, nullable: true, example: 'unix:///var/run/docker.sock', description: 'admins only; absent for other roles' })
  host?: string | null;
  @Field(() => String, { nullable: true }) @ApiProperty({ type: String, nullable: true, example: '27.5.1' }) version!: string | null;
  @Field(() => String, { nullable: true }) @ApiProperty({ type: String, nullable: true, example: '1.47' }) apiVersion!: string | null;
  @Field(() => [Builder], { nullable: true, description: 'the builders a build sent here may ask for' })
  @ApiProperty({ enum: Builder, isArray: true, nullable: true })
  builders!: Builder[] | null;
  @Field({ description: "its event stream is open and it answered within the probe's bound" })
  @ApiProperty({ description: "its event stream is open and it answered within the probe's bound" })
  healthy!: boolean;
  @Field(() => Int, { nullable: true }) @ApiProperty({ type: Number, nullable: true, description: 'images it holds' }) images!: number | null;
  @Field(() => Int, { nullable: true }) @ApiProperty({ type: Number, nullable: true, description: 'jobs running on it now' }) runningJobs!: number | null;
  @Field(() => Int, { nullable: true }) @ApiProperty({ type: Number, nullable: true, description: 'jobs queued for it' }) waitingJobs!: number | null;
  @Field(() => [Label]) @ApiProperty({ type: [Label] }) labels!: Label[];
}
