import { Controller, Get, Module } from '@nestjs/common';
import { Field, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { AuthModule } from './auth.module';
import { CurrentPrincipal, RequireRole } from './decorators';
import { TOKEN_ROLES, type Principal, type TokenRole } from './principal';

/** Who the bearer token is: what a client (the console) needs to decide what to offer. */
@ObjectType('Me')
export class MeModel {
  @Field() @ApiProperty({ example: 'ci-a' }) name!: string;
  @Field() @ApiProperty({ example: 'team-a' }) team!: string;
  @Field(() => String, { description: 'viewer, builder or admin' }) @ApiProperty({ enum: TOKEN_ROLES }) role!: TokenRole;
  @Field(() => [String], { description: 'repository patterns the token may write' })
  @ApiProperty({ type: [String], example: ['localhost:5000/team-a/**'], description: 'repository patterns the token may write' })
  namespaces!: string[];
}

function meOf(principal: Principal): MeModel {
  return { name: principal.name, team: principal.team, role: principal.role, namespaces: [...principal.namespaces] };
}

@ApiTags('auth')
@Controller('v1/me')
export class MeController {
  @Get()
  @RequireRole('viewer')
  @ApiOkResponse({ type: MeModel })
  @ApiOperation({ operationId: 'getMe' })
  me(@CurrentPrincipal() principal: Principal): MeModel {
    return meOf(principal);
  }
}

@Resolver(() => MeModel)
export class MeResolver {
  @Query(() => MeModel, { description: "the bearer token's name, team, role and namespaces" })
  @RequireRole('viewer')
  me(@CurrentPrincipal() principal: Principal): MeModel {
    return meOf(principal);
  }
}

@Module({ imports: [AuthModule], controllers: [MeController], providers: [MeResolver] })
export class MeModule {}
