import { Field, Int, ObjectType } from '@nestjs/graphql';
import { ApiProperty } from '@nestjs/swagger';

/** A stored registry login as it may be shown: host and username, never the password. */
@ObjectType()
export class Registry {
  @Field() @ApiProperty({ example: 'localhost:5000' }) host!: string;
  @Field() @ApiProperty() username!: string;
  @Field() @ApiProperty({ description: 'the team whose pushes and pulls use it' }) team!: string;
  @Field() @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @Field() @ApiProperty({ description: 'name of the token that stored it' }) updatedBy!: string;
}

/** What re-sealing the vault under the current key did. */
@ObjectType()
export class ResealResult {
  @Field(() => Int) @ApiProperty({ description: 'credentials sealed under DRYDOCK_SECRET_KEY_PREVIOUS, now under DRYDOCK_SECRET_KEY' }) resealed!: number;
  @Field(() => Int) @ApiProperty({ description: 'credentials neither key opens: store them again' }) unreadable!: number;
}
