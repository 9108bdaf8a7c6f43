import { Field, ID, ObjectType } from '@nestjs/graphql';
import { ApiProperty } from '@nestjs/swagger';

/** A stored build secret as it may be shown: never its value. */
@ObjectType()
export class BuildSecret {
  @Field(() => ID, { description: 'what `RUN --mount=type=secret,id=<id>` and a build\'s `secret=<id>` name' })
  @ApiProperty({ example: 'npm-token' })
  id!: string;

  @Field({ description: 'the team whose builds may mount it' }) @ApiProperty() team!: string;
  @Field() @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @Field({ description: 'name of the token that stored it' }) @ApiProperty({ description: 'name of the token that stored it' }) updatedBy!: string;
}
